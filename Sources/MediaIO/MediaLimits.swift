/// Ceilings the readers enforce on what a file declares, checked before any sample memory is
/// allocated. They match the container's limits (Sources/Container), so whatever MediaIO reads a
/// codec can also store.
public enum MediaLimits {
    /// Pixels per image (width x height): 2^28, for example 16384 x 16384.
    public static let maxPixels = 1 << 28
    /// Width or height of an image.
    public static let maxDimension = 1 << 20
    /// Samples per audio file (frames x channels): 2^31.
    public static let maxAudioSamples = 1 << 31
    /// Channels per audio file.
    public static let maxAudioChannels = 256
    /// Frames per second.
    public static let maxSampleRate = 1 << 22
}

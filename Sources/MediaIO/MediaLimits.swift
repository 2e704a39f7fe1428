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
    /// Bytes of decoded samples in memory: 2^31 (2 GiB). An `Image` holds 2 bytes per sample
    /// whatever its depth (16384 x 16384 RGBA is exactly this), integer and float audio 4, double
    /// audio 8. Reading, `store` and `lossless` peak at a little above the samples themselves
    /// (Benchmarks/results/memory.md), so this bounds what a file can make them use.
    public static let maxSampleBytes = 1 << 31

    /// Refuses `samples` samples of `bytesPerSample` bytes beyond `limit`, before they are allocated.
    public static func checkSampleBytes(_ samples: Int, bytesPerSample: Int, of what: @autoclosure () -> String,
                                        limit: Int = maxSampleBytes) throws(MediaError) {
        let (bytes, overflow) = samples.multipliedReportingOverflow(by: bytesPerSample)
        guard overflow || bytes > limit else { return }
        throw .tooLarge("\(what()) needs \(overflow ? "more than 2^63" : String(bytes)) bytes of samples in memory, "
            + "beyond the limit of \(limit) bytes (\(limit >> 20) MiB)")
    }
}

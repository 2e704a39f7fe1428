/// Audio through libsndfile. Placeholder until implemented.
public enum AudioFile {
    public static func decode(_ data: [UInt8]) throws(MediaError) -> Audio {
        throw .unsupported("audio reading is not built yet")
    }
    public static func encode(_ audio: Audio, as format: FileFormat) throws(MediaError) -> [UInt8] {
        throw .unsupported("audio writing is not built yet")
    }
}

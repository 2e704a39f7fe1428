/// PNG through libpng (see Sources/CPNG for the setjmp shim). Placeholder until implemented.
public enum PNGFile {
    public static func decode(_ data: [UInt8]) throws(MediaError) -> Image {
        throw .unsupported("PNG reading is not built yet")
    }
    public static func encode(_ image: Image) throws(MediaError) -> [UInt8] {
        throw .unsupported("PNG writing is not built yet")
    }
}

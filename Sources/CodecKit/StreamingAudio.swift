import Container
import MediaIO

/// A codec that codes audio block by block, so a long recording codes in memory that does not
/// grow with its length (only its compressed payload does).
///
/// Optional: the CLI uses it when the codec the registry picks adopts it, the input is an audio
/// file it can read in place, and (decoding) the output is a regular file; everything else
/// (standard input and output, `roundtrip`, library callers) uses `encode`/`decode`. Both forms
/// must agree exactly: `encode(reader)` gives the container `encode(.audio(the whole file))`
/// gives, and the blocks of `decode(_:blocks:)`, joined, are the audio `decode` gives.
public protocol StreamingAudioCodec: Codec {
    /// Encodes the audio `reader` delivers, reading it block by block.
    func encode(_ reader: AudioReader, options: CodecOptions) throws(CodecError) -> ContainerFile
    /// Decodes `file`, handing its audio to `write` in consecutive blocks.
    func decode(_ file: ContainerFile, blocks write: (Audio) throws(CodecError) -> Void) throws(CodecError)
}

extension StreamingAudioCodec {
    /// `decode(_:blocks:)` held to the header, as `decodeChecked` holds a whole decode: every
    /// block at the header's rate, channel count and sample format, and the frames the header
    /// declares in all (a codec returning other audio fails with `corruptPayload`).
    public func decodeChecked(_ file: ContainerFile, blocks write: (Audio) throws(CodecError) -> Void) throws(CodecError) {
        guard case let .audio(sampleRate, channels, frames, sampleFormat, _) = file.media else {
            throw .corruptPayload("\(info.id) decodes audio; the header describes other media")
        }
        var total = 0
        try decode(file) { (block: Audio) throws(CodecError) in
            let format = MediaDescriptor(.audio(block))
            guard block.sampleRate == sampleRate, block.channels == channels, total + block.frames <= frames,
                  case .audio(_, _, _, sampleFormat, _) = format else {
                throw .corruptPayload("decoded media does not match the header (\(info.id))")
            }
            total += block.frames
            try write(block)
        }
        guard total == frames else { throw .corruptPayload("decoded media does not match the header (\(info.id))") }
    }
}

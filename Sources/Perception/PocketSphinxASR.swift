import CPocketSphinx
import Foundation
import MediaIO

/// Speech recognition through pocketsphinx's C API (Debian `libpocketsphinx-dev` 0.8+5prealpha,
/// `pocketsphinx-en-us`): the en-us continuous acoustic model, the en-us trigram language model
/// and the CMU dictionary, decoding one whole utterance at 16 kHz, 16-bit mono.
///
/// Cepstral mean normalisation is per utterance (`-cmn batch`): pocketsphinx's default, live CMN,
/// carries its running mean from one utterance to the next, so a clip's words would depend on the
/// clips the same engine heard before it, and so on how work was spread over threads.
///
/// Input at any rate or channel count is mixed to mono and resampled to 16 kHz
/// (`SpeechResampler`, on MediaIO's libsamplerate resampler). Deterministic; not thread-safe: one engine per thread.
///
/// The libraries are loaded at the first engine (CPocketSphinx: dlopen), not linked, so that the
/// `codec` processes that never recognise speech do not pay for loading them at start
/// (docs/SCORE.md). Without them the engine throws `engineUnavailable`.
public final class PocketSphinxASR: PerceptionEngine {
    public static let sampleRate = 16000
    public static let defaultModelDirectory = "/usr/share/pocketsphinx/model/en-us"
    private let ps: cpocketsphinx_api
    private let config: OpaquePointer
    private let decoder: OpaquePointer

    public init(modelDirectory: String = PocketSphinxASR.defaultModelDirectory) throws(PerceptionError) {
        let files = ["-hmm": "\(modelDirectory)/en-us", "-lm": "\(modelDirectory)/en-us.lm.bin",
                     "-dict": "\(modelDirectory)/cmudict-en-us.dict"]
        let settings = ["-cmn": "batch"]
        for (_, path) in files.sorted(by: { $0.key < $1.key }) where !FileManager.default.fileExists(atPath: path) {
            throw .engineUnavailable("pocketsphinx model file \(path) is missing (Debian: apt-get install pocketsphinx-en-us)")
        }
        guard let ps = cpocketsphinx_load()?.pointee else {
            throw .engineUnavailable("cannot load pocketsphinx: \(String(cString: cpocketsphinx_load_error()))")
        }
        engineSetupLock.lock()
        defer { engineSetupLock.unlock() }
        ps.err_set_logfp(nil)  // sphinxbase logs every step to stderr otherwise
        var argv: [UnsafeMutablePointer<CChar>?] = []
        for (flag, value) in files.merging(settings, uniquingKeysWith: { a, _ in a }).sorted(by: { $0.key < $1.key }) {
            argv += [strdup(flag), strdup(value)]
        }
        defer { for p in argv { free(p) } }
        let parsed = argv.withUnsafeMutableBufferPointer { ps.cmd_ln_parse_r(nil, ps.ps_args(), Int32($0.count), $0.baseAddress, 1) }
        guard let parsed else { throw .engineUnavailable("pocketsphinx rejected its configuration") }
        guard let decoder = ps.ps_init(parsed) else {
            _ = ps.cmd_ln_free_r(parsed)
            throw .engineUnavailable("pocketsphinx could not load its model from \(modelDirectory)")
        }
        self.ps = ps
        config = parsed
        self.decoder = decoder
    }

    public func predict(_ media: Media) throws(PerceptionError) -> Prediction {
        .text(try recognize(media.audio(for: "asr")))
    }

    /// The words heard, lower case, separated by spaces (empty for silence).
    public func recognize(_ audio: Audio) throws(PerceptionError) -> String {
        let pcm = try SpeechResampler.pcm16(audio, sampleRate: Self.sampleRate)
        guard !pcm.isEmpty else { return "" }
        guard ps.ps_start_utt(decoder) >= 0 else { throw .unreadable("pocketsphinx could not start an utterance") }
        let processed = pcm.withUnsafeBufferPointer { ps.ps_process_raw(decoder, $0.baseAddress!, $0.count, 0, 1) }
        guard ps.ps_end_utt(decoder) >= 0, processed >= 0 else { throw .unreadable("pocketsphinx could not decode the audio") }
        guard let hyp = ps.ps_get_hyp(decoder, nil) else { return "" }
        return String(cString: hyp)
    }

    deinit {
        _ = ps.ps_free(decoder)
        _ = ps.cmd_ln_free_r(config)
    }
}

extension TextRecognitionTask {
    /// The speech task: pocketsphinx on a clip, word error rate, ground truth from the folder's
    /// `transcripts.tsv` (LibriSpeech) or `metadata.csv` (LJSpeech), or `NAME.txt` beside the clip.
    public static let asr = TextRecognitionTask(
        info: TaskInfo(id: "asr", media: .audio, metric: "WER",
                       summary: "pocketsphinx en-us (16 kHz) speech recognition; word error rate; ground truth transcripts.tsv, metadata.csv or NAME.txt"),
        engine: { () throws(PerceptionError) in try PocketSphinxASR() },
        groundTruth: { (path) throws(PerceptionError) in try GroundTruth.transcript(for: path) },
        measure: { ErrorTally.words($0, reference: $1) })
}

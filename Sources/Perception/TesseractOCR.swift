import CTesseract
import Foundation
import MediaIO

/// OCR through libtesseract's C API (Debian `libtesseract-dev` 5.3, `tesseract-ocr-eng`).
///
/// Settings, fixed so that scores are reproducible: the LSTM engine with the installed `eng`
/// model, default page segmentation (automatic, as the `tesseract` command), resolution
/// estimated from the text as the command does for a PNG without a pHYs chunk, and
/// `tessedit_do_invert=0` (no second pass looking for white-on-black text, which the pages do
/// not have; it halves the time and leaves the 20 document pages' text unchanged). Debian builds
/// tesseract with OpenMP; its parallel regions are switched off (one thread per engine), since
/// `codec score` runs one engine per core and OpenMP threads on top only contend.
///
/// The library is loaded at the first engine (CTesseract: dlopen), not linked: linked, it cost
/// every `codec` process ~27 ms of CPU at start for the dozens of libraries it brings, though only
/// this task uses it (docs/SCORE.md). Without it the engine throws `engineUnavailable`.
///
/// Not thread-safe: one engine per thread.
public final class TesseractOCR: PerceptionEngine {
    private let tess: ctesseract_api
    private let handle: OpaquePointer

    public init(language: String = "eng", dataPath: String? = nil) throws(PerceptionError) {
        engineSetupLock.lock()
        defer { engineSetupLock.unlock() }
        guard let tess = ctesseract_load()?.pointee else {
            throw .engineUnavailable("cannot load libtesseract: \(String(cString: ctesseract_load_error()))")
        }
        OpenMP.singleThreaded
        guard let api = tess.TessBaseAPICreate() else { throw .engineUnavailable("TessBaseAPICreate failed") }
        // Quiet: tesseract writes notes ("Estimating resolution as 280") to its debug file.
        _ = tess.TessBaseAPISetVariable(api, "debug_file", "/dev/null")
        guard tess.TessBaseAPIInit3(api, dataPath, language) == 0 else {
            tess.TessBaseAPIDelete(api)
            throw .engineUnavailable("tesseract cannot load language '\(language)' from \(dataPath ?? "its default tessdata folder") (Debian: apt-get install tesseract-ocr-\(language))")
        }
        _ = tess.TessBaseAPISetVariable(api, "tessedit_do_invert", "0")
        self.tess = tess
        handle = api
    }

    deinit {
        tess.TessBaseAPIEnd(handle)
        tess.TessBaseAPIDelete(handle)
    }

    public func predict(_ media: Media) throws(PerceptionError) -> Prediction {
        .text(try recognize(media.image(for: "ocr")))
    }

    /// The page's text, lines separated by newlines, as tesseract gives it.
    public func recognize(_ image: Image) throws(PerceptionError) -> String {
        guard image.width >= 4, image.height >= 4 else { return "" }  // tesseract refuses smaller
        guard image.width < 32768, image.height < 32768 else {
            throw .unreadable("\(image.width)x\(image.height) is beyond tesseract's 32767-pixel limit")
        }
        let (pixels, bytesPerPixel) = Self.eightBit(image)
        let text: String? = pixels.withUnsafeBufferPointer { buffer in
            tess.TessBaseAPISetImage(handle, buffer.baseAddress, Int32(image.width), Int32(image.height),
                                Int32(bytesPerPixel), Int32(image.width * bytesPerPixel))
            defer {
                // Nothing learned from one page may change the next (the legacy adaptive classifier).
                tess.TessBaseAPIClear(handle)
                tess.TessBaseAPIClearAdaptiveClassifier(handle)
            }
            guard let out = tess.TessBaseAPIGetUTF8Text(handle) else { return nil }
            defer { tess.TessDeleteText(out) }
            return String(cString: out)
        }
        guard let text else { throw .unreadable("tesseract recognised nothing (GetUTF8Text failed)") }
        return text
    }

    /// 8-bit gray or RGB samples: 16-bit reduced to its high byte, alpha composited onto white.
    static func eightBit(_ image: Image) -> ([UInt8], Int) {
        let shift = image.bitDepth - 8
        let maxValue = UInt32(image.maxValue)
        let colour = image.channels >= 3
        let outChannels = colour ? 3 : 1
        let hasAlpha = image.channels == 2 || image.channels == 4
        var out = [UInt8](repeating: 0, count: image.pixelCount * outChannels)
        image.samples.withUnsafeBufferPointer { s in
            for p in 0..<image.pixelCount {
                let base = p * image.channels
                let alpha = hasAlpha ? UInt32(s[base + image.channels - 1]) : maxValue
                for c in 0..<outChannels {
                    var v = UInt32(s[base + c])
                    if hasAlpha { v = (v * alpha + maxValue * (maxValue - alpha) + maxValue / 2) / maxValue }
                    out[p * outChannels + c] = UInt8(v >> UInt32(shift))
                }
            }
        }
        return (out, outChannels)
    }
}

extension TextRecognitionTask {
    /// The OCR task: tesseract on a page image, character error rate, ground truth in `NAME.txt`.
    public static let ocr = TextRecognitionTask(
        info: TaskInfo(id: "ocr", media: .image, metric: "CER",
                       summary: "tesseract 5 (eng, LSTM) OCR; character error rate after whitespace normalisation; ground truth NAME.txt"),
        engine: { () throws(PerceptionError) in try TesseractOCR() },
        groundTruth: { (path) throws(PerceptionError) in try GroundTruth.text(for: path, sidecars: ["txt", "gt.txt"]) },
        measure: { ErrorTally.characters($0, reference: $1) })
}

/// OpenMP, when tesseract has it (libgomp, loaded with Debian's libtesseract): max-active-levels
/// 0 makes every parallel region run on its calling thread. Looked up at run time (CTesseract
/// finds it in libtesseract's dependencies), so a tesseract built without OpenMP needs nothing.
enum OpenMP {
    static let singleThreaded: Void = { ctesseract_load()?.pointee.omp_set_max_active_levels?(0) }()
}

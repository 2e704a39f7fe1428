import Foundation
import Testing
@testable import Perception

/// Edit distance and the documented normalisations of CER and WER.
@Suite struct ErrorRateTests {
    @Test func levenshteinCountsSubstitutionsInsertionsDeletions() {
        #expect(levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(levenshtein(Array(""), Array("abc")) == 3)
        #expect(levenshtein(Array("abc"), Array("")) == 3)
        #expect(levenshtein(["a", "b"], ["a", "b"]) == 0)
        #expect(levenshtein(Array("flaw"), Array("lawn")) == 2)
    }

    @Test func characterErrorsIgnoreOnlyWhitespaceLayout() {
        let truth = "“My dear Mr. Bennet,”\nsaid his lady\n\nto him"
        #expect(ErrorTally.characters("“My dear Mr. Bennet,” said  his lady to him\n", reference: truth) == ErrorTally(edits: 0, length: 42))
        // Case, punctuation and quotes count.
        #expect(ErrorTally.characters("\"My dear Mr. Bennet,\" said his lady to him", reference: truth).edits == 2)
        #expect(ErrorTally.characters("“my dear Mr Bennet,” said his lady to him", reference: truth).edits == 2)
    }

    @Test func wordErrorsNormaliseCaseAndPunctuation() {
        #expect(TextNormalization.words("Mr. Bennet's “house”, to-day!") == ["mr", "bennet's", "house", "to", "day"])
        #expect(TextNormalization.words("'tis  the SEASON’s end'") == ["tis", "the", "season's", "end"])
        let t = ErrorTally.words("i really like an account of himself", reference: "I REALLY LIKED THAT ACCOUNT OF HIMSELF")
        #expect(t == ErrorTally(edits: 2, length: 7))
    }

    @Test func corpusRatesSumEditsAndLengths() {
        let total = ErrorTally(edits: 1, length: 10) + ErrorTally(edits: 3, length: 30)
        #expect(total == ErrorTally(edits: 4, length: 40) && total.rate == 0.1)
        #expect(ErrorTally.characters("", reference: "").rate == 0)
        #expect(ErrorTally.characters("xy", reference: " ").rate == 2)  // text where there is none still counts
    }
}

/// Where datasets keep ground truth; a present file that lacks the input is an error.
@Suite struct GroundTruthTests {
    let dir = NSTemporaryDirectory() + "perception-gt-\(UUID().uuidString)"

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

    func write(_ name: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(text.utf8))
    }

    @Test func pagesUseTheirTextSidecar() throws {
        write("page.txt", "Chapter 1\n")
        #expect(try TextRecognitionTask.ocr.reference(for: "\(dir)/page.png") == .text("Chapter 1\n"))
        #expect(try TextRecognitionTask.ocr.reference(for: "\(dir)/other.png") == nil)
    }

    @Test func librispeechTranscriptsAndLJSpeechMetadata() throws {
        let libri = "\(dir)/libri", lj = "\(dir)/lj"
        try FileManager.default.createDirectory(atPath: libri, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lj, withIntermediateDirectories: true)
        write("libri/transcripts.tsv", "1-2-0003.flac\tHELLO THERE\n1-2-0004.flac\tGOOD BYE\n")
        write("lj/metadata.csv", "LJ001-0002|in 1450 there|in fourteen fifty there\n")
        #expect(try TextRecognitionTask.asr.reference(for: "\(libri)/1-2-0004.flac") == .text("GOOD BYE"))
        #expect(try TextRecognitionTask.asr.reference(for: "\(lj)/LJ001-0002.flac") == .text("in fourteen fifty there"))
        #expect(throws: PerceptionError.self) { try TextRecognitionTask.asr.reference(for: "\(libri)/9-9-9999.flac") }
        #expect(try TextRecognitionTask.asr.reference(for: "\(dir)/loose.wav") == nil)
    }

    @Test func unknownTaskNamesTheAvailableAndPlannedOnes() throws {
        #expect(throws: PerceptionError.self) { try PerceptionTasks.task("mnist") }
        do { _ = try PerceptionTasks.task("mnist") } catch {
            #expect(error.description.contains("ocr, asr") && error.description.contains("digits-image") && error.exitCode == 1)
        }
        #expect(try PerceptionTasks.task("asr").info.media == .audio)
    }
}

import Foundation

/// The repository root (Tests/TestSupport/ → ../..), for tests that read the released models
/// in Codecs/ or the files in SampleMedia/.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

import ArgumentParser
@main struct CodecCLI: ParsableCommand { func run() {} }

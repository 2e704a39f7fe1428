import CodecKit
import PCCodec
import Store

/// Every codec and released model this build offers. Adding a codec is one entry here.
let registry = CodecRegistry(
    [
        CodecRegistry.Entry(info: StoreCodec().info) { StoreCodec() },
        CodecRegistry.Entry(info: PredictiveCodec().info) { PredictiveCodec() },
        CodecRegistry.Entry(info: PCCodec.info()) { () throws(CodecError) in try PCCodec() },
    ],
    defaults: [.image: PredictiveCodec.id, .audio: PredictiveCodec.id, .bytes: PredictiveCodec.id])

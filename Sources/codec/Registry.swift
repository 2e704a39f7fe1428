import CodecKit
import PCCodec
import Lossless
import TextLM
import WaLLoC
import GRVQ
import VQGAN

/// Every codec and released model this build offers. Adding a codec is one entry here.
let registry = CodecRegistry(
    [
        CodecRegistry.Entry(info: StoreCodec().info) { StoreCodec() },
        CodecRegistry.Entry(info: LosslessCodec().info) { LosslessCodec() },
        CodecRegistry.Entry(info: PCCodec.info()) { () throws(CodecError) in try PCCodec() },
        CodecRegistry.Entry(info: LMACCodec().info) { LMACCodec() },
        CodecRegistry.Entry(info: EIWCodec().info) { EIWCodec() },
        CodecRegistry.Entry(info: WaLLoCCodec.info("walloc-rgb-16x", image: true, latent: 12, bands: 192)) { () throws(CodecError) in
            try WaLLoCCodec(modelID: "walloc-rgb-16x")
        },
        CodecRegistry.Entry(info: WaLLoCCodec.info("walloc-rgb-4x", image: true, latent: 48, bands: 192)) { () throws(CodecError) in
            try WaLLoCCodec(modelID: "walloc-rgb-4x")
        },
        CodecRegistry.Entry(info: WaLLoCCodec.info("walloc-stereo-5x", image: false, latent: 108, bands: 512)) { () throws(CodecError) in
            try WaLLoCCodec(modelID: "walloc-stereo-5x")
        },
        CodecRegistry.Entry(info: WaLLoCCodec.info("walloc-stereo-20x", image: false, latent: 27, bands: 512)) { () throws(CodecError) in
            try WaLLoCCodec(modelID: "walloc-stereo-20x")
        },
        CodecRegistry.Entry(info: GRVQCodec.info("grvq-16k")) { () throws(CodecError) in
            try GRVQCodec(modelID: "grvq-16k")
        },
        CodecRegistry.Entry(info: VQGANCodec.info("vqgan-f16", rates: [1024, 256, 64, 16])) { () throws(CodecError) in
            try VQGANCodec(modelID: "vqgan-f16")
        },
    ],
    defaults: [.image: LosslessCodec.id, .audio: LosslessCodec.id, .bytes: LosslessCodec.id])

// libFuzzer target: any byte string given to SafeTensors either loads, and then every tensor in it
// can be extracted, or throws SafeTensorsError; it never crashes or reads out of bounds (ASan).
// Built by `make fuzz-neural` together with Sources/Neural/{SafeTensors,Tensor}.swift.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let st = try SafeTensors(data: bytes)
        for name in st.names where (st.entries[name]?.range.count ?? 0) <= 1 << 24 {
            _ = try st.tensor(name)
        }
    } catch is SafeTensorsError {
    } catch {
        fatalError("untyped error \(error)")
    }
    return 0
}

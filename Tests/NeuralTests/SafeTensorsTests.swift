import Foundation
import Testing
@testable import Neural

@Suite struct SafeTensorsTests {
    let sample = SafeTensors.encode(["a": Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]),
                                     "b": Tensor(shape: [1], scalars: [-7.5])], metadata: ["k": "v"])

    @Test func roundTripsTensorsAndMetadata() throws {
        let st = try SafeTensors(data: sample)
        #expect(st.names == ["a", "b"])
        #expect(try st.tensor("a") == Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(try st.tensor("b").scalars == [-7.5])
        #expect(st.metadata == ["k": "v"])
        #expect(throws: SafeTensorsError.missingTensor(name: "c")) { try st.tensor("c") }
        #expect(throws: SafeTensorsError.shapeMismatch(name: "a", expected: [3, 2], found: [2, 3])) { try st.tensor("a", shape: [3, 2]) }
    }

    @Test func readsSlicesOfData() throws {
        var padded = Data([9, 9, 9])
        padded.append(sample)
        let st = try SafeTensors(data: padded[3...])
        #expect(try st.tensor("b").scalars == [-7.5])
    }

    @Test func convertsHalfAndBFloat16() throws {
        let (st, _) = try Golden.load("dtypes")
        #expect(st.entries["f16"]?.dtype == .f16 && st.entries["bf16"]?.dtype == .bf16)
        #expect(try st.tensor("f16") == st.tensor("f32_of_f16"))
        #expect(try st.tensor("bf16") == st.tensor("f32_of_bf16"))
    }

    /// I32 tensors (token ids in golden files) convert exactly.
    @Test func convertsInt32() throws {
        var d = file(header: #"{"t": {"dtype": "I32", "shape": [3], "data_offsets": [0, 12]}}"#, dataBytes: 0)
        for v: Int32 in [256, -3, 1 << 24] { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        let st = try SafeTensors(data: d)
        #expect(st.entries["t"]?.dtype == .i32)
        #expect(try st.tensor("t").scalars == [256, -3, 16_777_216])
    }

    @Test func halfConversionCoversEveryClass() {
        #expect(floatFromHalf(0x3c00) == 1)
        #expect(floatFromHalf(0xc000) == -2)
        #expect(floatFromHalf(0x7bff) == 65504)
        #expect(floatFromHalf(0x0001) == Float(bitPattern: 0x3380_0000))
        #expect(floatFromHalf(0x8000).sign == .minus && floatFromHalf(0x8000) == 0)
        #expect(floatFromHalf(0x7c00) == .infinity)
        #expect(floatFromHalf(0x7e00).isNaN)
    }

    /// Rebuilds a file with a hand-written header.
    func file(header: String, dataBytes: Int) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(Data(header.utf8))
        d.append(Data(count: dataBytes))
        return d
    }

    @Test func rejectsCorruptHeadersWithTypedErrors() {
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "short"),
            (Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]) + Data(count: 8), "huge header length"),
            (Data([100, 0, 0, 0, 0, 0, 0, 0]) + Data(count: 10), "header past end"),
            (file(header: "not json", dataBytes: 0), "not JSON"),
            (file(header: "[1, 2]", dataBytes: 0), "not an object"),
            (file(header: #"{"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, dataBytes: 8), "dtype"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, dataBytes: 4), "past data"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, dataBytes: 8), "size mismatch"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, dataBytes: 8), "negative dim"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 8]}}"#, dataBytes: 8), "fractional dim"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#, dataBytes: 8), "overflow"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, dataBytes: 8), "reversed range"),
            (file(header: #"{"a": {"dtype": "F32", "shape": [2]}}"#, dataBytes: 8), "no offsets"),
            (file(header: #"{"a": 3}"#, dataBytes: 0), "entry not object"),
            (file(header: #"{"__metadata__": 3}"#, dataBytes: 0), "bad metadata"),
        ]
        for (data, what) in cases {
            #expect(throws: SafeTensorsError.self, "\(what)") { try SafeTensors(data: data) }
        }
    }

    /// Every truncation and every single-byte corruption of a valid file either loads or throws a
    /// SafeTensorsError; extracting every tensor of a file that loaded stays in bounds.
    @Test func survivesTruncationAndByteFlips() throws {
        for n in 0..<sample.count {
            if let st = try? SafeTensors(data: sample.prefix(n)) { for name in st.names { _ = try st.tensor(name) } }
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var d = sample
            let i = Int.random(in: 0..<min(d.count, 8 + 200), using: &rng)
            d[i] = UInt8.random(in: 0...255, using: &rng)
            do {
                let st = try SafeTensors(data: d)
                for name in st.names { _ = try st.tensor(name) }
            } catch is SafeTensorsError {
            }
        }
    }
}

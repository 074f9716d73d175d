import Foundation

/// OpenBLAS, opened at first use with its kernel fixed, so results are bit-identical on every
/// x86-64 machine ptq runs on.
///
/// OpenBLAS picks its kernels for the CPU when the library loads (the AVX-512 "SkylakeX"/"Cooperlake"
/// kernels on Zen 4, AVX2 "Haswell" on older chips); the kernels sum in different orders, so
/// SQNR and MSE figures moved in their last digits between machines of the same kind and golden
/// transcripts broke. Linking the library would run that choice before `main`, so it is not linked:
/// it is opened here with `OPENBLAS_CORETYPE=Haswell` set first (the AVX2 kernel was also measured
/// faster on Zen 4, see the toolchain notes) and `OPENBLAS_NUM_THREADS=1` (ptq splits work itself).
/// A user's own `OPENBLAS_CORETYPE` is overridden on purpose: reproducibility is the promise.
enum BLAS {
    typealias SgemmFunction = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    static let coreType = "Haswell"
    static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112

    /// `cblas_sgemm` from the opened library.
    static let sgemm: SgemmFunction = {
        let symbol = resolve("cblas_sgemm")
        return unsafeBitCast(symbol, to: SgemmFunction.self)
    }()

    typealias SdotFunction = @convention(c) (Int32, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32) -> Float

    /// `cblas_sdot` from the opened library.
    static let sdot: SdotFunction = {
        let symbol = resolve("cblas_sdot")
        return unsafeBitCast(symbol, to: SdotFunction.self)
    }()

    nonisolated(unsafe) private static let handle: UnsafeMutableRawPointer = {
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
        #if os(macOS)
        let names = ["libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib"]
        #else
        let names = ["libopenblas.so.0", "libopenblas.so"]
        #endif
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return handle }
        }
        let reason = dlerror().map { String(cString: $0) } ?? "not found"
        fatalError("ptq needs OpenBLAS (\(names[0])), which could not be opened: \(reason). Run scripts/setup (it installs libopenblas-dev).")
    }()

    private static func resolve(_ name: String) -> UnsafeMutableRawPointer {
        guard let symbol = dlsym(handle, name) else {
            fatalError("the OpenBLAS library ptq opened has no \(name)")
        }
        return symbol
    }
}

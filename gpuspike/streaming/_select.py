"""Device-side column selection for channel subsets (imported lazily: needs numba.cuda)."""
from numba import cuda

_kernel = None


def _get_kernel():
    global _kernel
    if _kernel is None:

        @cuda.jit
        def select_columns(src, cols, dst):
            j, i = cuda.grid(2)  # x (fastest) along channels: coalesced rows
            if i < dst.shape[0] and j < dst.shape[1]:
                dst[i, j] = src[i, cols[j]]

        _kernel = select_columns
    return _kernel


def select_columns_device(src, cols_dev, dst, stream) -> None:
    """``dst[i, j] = src[i, cols[j]]``, launched on ``stream`` (compiled on first use)."""
    n, m = dst.shape
    if n == 0 or m == 0:
        return
    tpb = (32, 8)
    grid = ((m + tpb[0] - 1) // tpb[0], (n + tpb[1] - 1) // tpb[1])
    _get_kernel()[grid, tpb, stream](src, cols_dev, dst)

//! The capacity Go gives a list decoded from JSON, which `slice` checks its indexes against.
//!
//! `encoding/json` builds a `[]interface{}` by appending one element at a time to an empty slice, so its
//! capacity is whatever Go's `append` growth (`runtime.growslice`) reaches for that length: doubling below 256
//! elements, then growing by about a quarter, each time rounded up to the allocator's size class (16-byte
//! elements; objects above 512 bytes carry an 8-byte header; objects above 32 KiB are whole 8 KiB pages).

/// The allocator's small size classes (bytes), as in Go's `runtime/sizeclasses.go`.
const SIZE_CLASSES: [usize; 67] = [
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416,
    448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200,
    3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336,
    16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
];

/// Go's `roundupsize` for a pointer-holding object of `size` bytes.
fn round_up_size(size: usize) -> usize {
    const HEADER: usize = 8;
    const PAGE: usize = 8192;
    if size <= 32768 - HEADER {
        let req = if size > 512 { size + HEADER } else { size };
        let class = SIZE_CLASSES.iter().copied().find(|&c| c >= req).unwrap_or(req);
        return class - (req - size);
    }
    size.div_ceil(PAGE).saturating_mul(PAGE)
}

/// The capacity after `append` grows a `[]interface{}` of capacity `old` to hold `needed` elements.
fn grow(needed: usize, old: usize) -> usize {
    let doubled = old.saturating_mul(2);
    let mut cap = if needed > doubled {
        needed
    } else if old < 256 {
        doubled
    } else {
        let mut c = old;
        while c < needed {
            c = c.saturating_add((c + 3 * 256) >> 2);
        }
        c
    };
    cap = round_up_size(cap.saturating_mul(16)) / 16;
    cap
}

/// The capacity of a `[]interface{}` of `len` elements decoded by `encoding/json`.
pub fn decoded_list_cap(len: usize) -> usize {
    let mut cap = 0;
    while cap < len {
        cap = grow(cap + 1, cap);
    }
    cap
}

#[cfg(test)]
mod tests {
    use super::decoded_list_cap;

    /// Capacities observed with Go 1.26.1 (`slice` of a decoded list of that length, largest index accepted).
    #[test]
    fn matches_go() {
        let observed = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 4),
            (5, 8),
            (9, 16),
            (17, 32),
            (32, 32),
            (33, 71),
            (71, 71),
            (72, 143),
            (100, 143),
            (200, 303),
            (257, 303),
            (300, 303),
            (500, 591),
            (513, 591),
            (700, 1023),
            (1000, 1023),
        ];
        for (len, cap) in observed {
            assert_eq!(decoded_list_cap(len), cap, "len {len}");
        }
    }
}

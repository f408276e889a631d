//! The key order of yaml.v2's encoder for string keys.
//!
//! yaml.v2 does not sort bytewise: it compares rune by rune, letters sort before non-letters, and runs of digits
//! compare by numeric value (`a2` < `a10`). sigs.k8s.io/yaml output inherits this order.

/// Go's `unicode.IsLetter` (categories L*). Rust's `is_alphabetic` also admits a few marks and letter-numbers;
/// the difference only matters for exotic non-ASCII keys.
fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

/// Go's `unicode.IsDigit` restricted to what yaml.v2's digit arithmetic handles meaningfully.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// yaml.v2's `keyList.Less` for two string keys.
pub fn key_less(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // ASCII: one byte per rune, no decoding needed.
        return runes_less(a.as_bytes(), b.as_bytes(), |c| c as char);
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    runes_less(&ar, &br, |c| c)
}

/// `keyList.Less` on two rune sequences.
fn runes_less<T: Copy + PartialEq>(ar: &[T], br: &[T], ch: impl Fn(T) -> char) -> bool {
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (ac, bc) = (ch(ar[i]), ch(br[i]));
        let (al, bl) = (is_letter(ac), is_letter(bc));
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ac == '0' || bc == '0' {
            // A zero continuing a number that already has a non-zero digit is an ordinary digit.
            if ar[..i]
                .iter()
                .rev()
                .map(|c| ch(*c))
                .take_while(|c| is_digit(*c))
                .any(|c| c != '0')
            {
                an = 1;
                bn = 1;
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_digit(ch(ar[ai])) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ch(ar[ai]) as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(ch(br[bi])) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(ch(br[bi]) as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ac < bc;
    }
    ar.len() < br.len()
}

/// Sorts keys in yaml.v2 order.
///
/// Go's `sort.Sort` runs insertion sort on up to 12 elements, which we mirror exactly; larger inputs use a
/// merge sort. Both tolerate a comparator that is not perfectly transitive without panicking (the standard
/// library sort may panic on such comparators).
pub fn sort_keys<T>(items: &mut Vec<(String, T)>) {
    if items.len() <= 12 {
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && key_less(&items[j].0, &items[j - 1].0) {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let taken = std::mem::take(items);
    *items = merge_sort(taken);
}

fn merge_sort<T>(mut items: Vec<(String, T)>) -> Vec<(String, T)> {
    if items.len() <= 1 {
        return items;
    }
    let right = items.split_off(items.len() / 2);
    let (left, right) = (merge_sort(items), merge_sort(right));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => key_less(&b.0, &a.0),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        out.extend(next);
    }
    out
}

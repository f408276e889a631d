//! The protobuf wire format: varints, keys and length-delimited fields.

/// Wire type of varint fields (bool, int32, int64).
pub const VARINT: u8 = 0;
/// Wire type of 64-bit fields (double).
pub const FIXED64: u8 = 1;
/// Wire type of length-delimited fields (string, bytes, messages, map entries, packed repeated scalars).
pub const LEN: u8 = 2;
/// Wire type of 32-bit fields (float).
pub const FIXED32: u8 = 5;

/// Appends a varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a field key.
pub fn put_key(out: &mut Vec<u8>, tag: u32, wire: u8) {
    put_varint(out, (u64::from(tag) << 3) | u64::from(wire));
}

/// Appends a length-delimited field.
pub fn put_bytes(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_key(out, tag, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One field as read from the wire.
#[derive(Debug, PartialEq)]
pub enum Field<'a> {
    /// A varint.
    Varint(u64),
    /// Eight bytes.
    Fixed64(u64),
    /// Four bytes.
    Fixed32(u32),
    /// Length-delimited bytes.
    Bytes(&'a [u8]),
}

/// Reads the fields of one message, in order.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over a message's bytes.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first().ok_or("truncated varint")?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err("truncated field".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next `(tag, field)`, or `None` at the end.
    pub fn next_field(&mut self) -> Result<Option<(u32, Field<'a>)>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let tag = u32::try_from(key >> 3).map_err(|_| "field number out of range")?;
        let field = match (key & 7) as u8 {
            VARINT => Field::Varint(self.varint()?),
            FIXED64 => {
                let b = self.take(8)?;
                Field::Fixed64(u64::from_le_bytes(b.try_into().map_err(|_| "fixed64")?))
            }
            LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
                Field::Bytes(self.take(n)?)
            }
            FIXED32 => {
                let b = self.take(4)?;
                Field::Fixed32(u32::from_le_bytes(b.try_into().map_err(|_| "fixed32")?))
            }
            other => return Err(format!("unsupported wire type {other}")),
        };
        Ok(Some((tag, field)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_truncation_is_an_error() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX, (-5i64) as u64] {
            let mut out = Vec::new();
            put_key(&mut out, 3, VARINT);
            put_varint(&mut out, v);
            let mut r = Reader::new(&out);
            assert_eq!(r.next_field().unwrap(), Some((3, Field::Varint(v))));
            assert_eq!(r.next_field().unwrap(), None);
        }
        let mut r = Reader::new(&[0x0a, 0x05, b'a']);
        assert!(r.next_field().is_err(), "length beyond the buffer");
        let mut r = Reader::new(&[0x08, 0xff, 0xff]);
        assert!(r.next_field().is_err(), "unterminated varint");
        let mut r = Reader::new(&[0x0b]);
        assert!(r.next_field().is_err(), "group wire types are refused");
    }
}

//! Splitting a byte stream into lines the way `FileStreamSourceTask` does.

/// Bytes read but not yet returned as lines.
///
/// A line ends at `\n`, `\r\n` or a lone `\r`; a `\r` that ends the buffered bytes is held
/// back until the next byte shows whether a `\n` follows, and a line without terminator is
/// held back until its terminator arrives. Lines are split on bytes, which is safe for UTF-8
/// since neither terminator byte occurs inside a multi-byte sequence, then decoded with
/// replacement characters for invalid UTF-8, as Java's `InputStreamReader` decodes.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    bytes: Vec<u8>,
    /// Where the pending bytes start.
    start: usize,
    /// How many pending bytes are known to hold no terminator, so that a long line arriving
    /// in many reads is scanned once.
    scanned: usize,
}

impl LineBuffer {
    /// Appends bytes read from the stream.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        // Drop consumed bytes before growing, so the buffer holds at most one partial line
        // plus what was just read.
        if self.start > 0 {
            self.bytes.drain(..self.start);
            self.start = 0;
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// The next complete line without its terminator, and how many bytes it used including
    /// the terminator.
    pub(crate) fn next_line(&mut self) -> Option<(String, usize)> {
        let pending = &self.bytes[self.start..];
        let Some(found) = pending[self.scanned..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        else {
            self.scanned = pending.len();
            return None;
        };
        let end = self.scanned + found;
        let consumed = if pending[end] == b'\n' {
            end + 1
        } else {
            match pending.get(end + 1) {
                None => {
                    self.scanned = end;
                    return None;
                }
                Some(b'\n') => end + 2,
                Some(_) => end + 1,
            }
        };
        let line = String::from_utf8_lossy(&pending[..end]).into_owned();
        self.start += consumed;
        self.scanned = 0;
        Some((line, consumed))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn drain(buffer: &mut LineBuffer) -> Vec<(String, usize)> {
        std::iter::from_fn(|| buffer.next_line()).collect()
    }

    #[test]
    fn splits_on_every_terminator_java_accepts() {
        let mut buffer = LineBuffer::default();
        buffer.extend(b"a\nbb\r\nccc\rd");
        let lines = drain(&mut buffer);
        assert_eq!(
            lines,
            [("a".into(), 2), ("bb".into(), 4), ("ccc".into(), 4)]
        );
        buffer.extend(b"\n");
        assert_eq!(drain(&mut buffer), [("d".into(), 2)]);
    }

    #[test]
    fn holds_back_a_trailing_carriage_return_until_the_next_byte() {
        let mut buffer = LineBuffer::default();
        buffer.extend(b"x\r");
        assert_eq!(buffer.next_line(), None);
        buffer.extend(b"\ny\n");
        assert_eq!(drain(&mut buffer), [("x".into(), 3), ("y".into(), 2)]);
    }

    #[test]
    fn counts_bytes_not_characters() {
        let mut buffer = LineBuffer::default();
        buffer.extend("é€\n".as_bytes());
        assert_eq!(drain(&mut buffer), [("é€".into(), 6)]);
    }

    #[test]
    fn replaces_invalid_utf8() {
        let mut buffer = LineBuffer::default();
        buffer.extend(b"a\xffb\n\n");
        assert_eq!(
            drain(&mut buffer),
            [("a\u{fffd}b".into(), 4), (String::new(), 1)]
        );
    }

    #[test]
    fn a_line_split_across_reads_is_returned_once_complete() {
        let mut buffer = LineBuffer::default();
        buffer.extend(b"one\ntw");
        assert_eq!(drain(&mut buffer), [("one".into(), 4)]);
        buffer.extend(b"o\n");
        assert_eq!(drain(&mut buffer), [("two".into(), 4)]);
        assert_eq!(buffer.bytes.len() - buffer.start, 0);
    }

    proptest! {
        /// However the bytes arrive, the same lines come out and their lengths add up to the
        /// bytes up to the end of the last complete line.
        #[test]
        fn lines_do_not_depend_on_how_the_bytes_are_split(
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), any::<u8>()], 0..64),
            cuts in proptest::collection::vec(0usize..64, 0..8),
        ) {
            let mut whole = LineBuffer::default();
            whole.extend(&text);
            let expected = drain(&mut whole);

            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut pieces = LineBuffer::default();
            let mut lines = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([text.len()]) {
                pieces.extend(&text[from..cut]);
                lines.extend(drain(&mut pieces));
                from = cut;
            }
            prop_assert_eq!(&lines, &expected);
            let used: usize = lines.iter().map(|(_, n)| n).sum();
            prop_assert!(text[used..].iter().filter(|&&b| b == b'\n').count() == 0);
        }
    }
}

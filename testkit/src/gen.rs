//! A tiny deterministic generator for property tests: many varied inputs,
//! reproducible failures, nothing cryptographic.

pub struct Gen(pub u64);

impl Gen {
    /// xorshift64.
    pub fn word(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.word() % n
    }

    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: u64) -> Vec<u8> {
        let n = self.below(max + 1) as usize;
        (0..n).map(|_| self.word() as u8).collect()
    }
}

//! PSK ("symmetric encryption") mode: key derivation and AES-128-CBC.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use alloc::vec::Vec;
use sha2::{Digest, Sha256};

/// The fixed IV of the platform's PSK mode.
pub const IV: &[u8; 16] = b"543yhjy97ae7fyfg";

type Enc = cbc::Encryptor<aes::Aes128>;
type Dec = cbc::Decryptor<aes::Aes128>;

/// AES-128 key of one authenticated session.
#[derive(Clone, PartialEq, Eq)]
pub struct PskKey([u8; 16]);

impl core::fmt::Debug for PskKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys never reach logs.
        f.write_str("PskKey(..)")
    }
}

impl PskKey {
    /// Bytes 8..24 of `SHA256(secret + "," + random)`.
    pub fn derive(device_secret: &[u8], random: &[u8]) -> Self {
        // One buffer, one update: each `update` call is inlined block
        // handling, and this runs once per auth.
        let mut input = Vec::with_capacity(device_secret.len() + 1 + random.len());
        for part in [device_secret, b",", random] {
            input.extend_from_slice(part);
        }
        let d = Sha256::digest(&input);
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[8..24]);
        PskKey(k)
    }

    pub fn from_bytes(k: [u8; 16]) -> Self {
        PskKey(k)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// PKCS#7-padded AES-128-CBC; a 16-byte input gets a full pad block.
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = alloc::vec![0; cipher_len(plain.len())];
        self.encrypt_to(plain, &mut out);
        out
    }

    /// [`PskKey::encrypt`] into `out`, which must be
    /// [`cipher_len`]`(plain.len())` bytes: lets a datagram be encrypted in
    /// place, with no buffer of its own.
    pub fn encrypt_to(&self, plain: &[u8], out: &mut [u8]) {
        debug_assert_eq!(out.len(), cipher_len(plain.len()));
        out[..plain.len()].copy_from_slice(plain);
        // Cannot fail: `out` has room for the padding.
        let _ = Enc::new(&self.0.into(), IV.into()).encrypt_padded_mut::<Pkcs7>(out, plain.len());
    }

    /// Fails on a length that is not a positive multiple of 16 or on bad
    /// padding (each pad byte must equal the pad length, 1..=16).
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Vec<u8>, DecryptError> {
        self.decrypt_with_spare(cipher, 0)
    }

    /// [`PskKey::decrypt`], in place in one buffer that keeps room for
    /// `spare` more bytes after the plaintext.
    // Not inlined: its ~750-byte frame (AES round keys) would stay on the
    // stack of the caller's other work, e.g. the uplinks a PSK auth answer
    // re-encrypts (measured in the firmware's LTO build).
    #[inline(never)]
    pub fn decrypt_with_spare(&self, cipher: &[u8], spare: usize) -> Result<Vec<u8>, DecryptError> {
        if cipher.is_empty() || cipher.len() % 16 != 0 {
            return Err(DecryptError);
        }
        let mut buf = Vec::with_capacity(cipher.len() + spare);
        buf.extend_from_slice(cipher);
        let len = Dec::new(&self.0.into(), IV.into())
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map_err(|_| DecryptError)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// Length of the ciphertext of `plain_len` bytes (PKCS#7 always pads).
pub const fn cipher_len(plain_len: usize) -> usize {
    (plain_len / 16 + 1) * 16
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecryptError;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sign::hex;

    const SECRET: &[u8] = b"s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

    #[test]
    fn spec_vectors() {
        let k = PskKey::derive(SECRET, b"ad2b3a5eb51d64f7");
        assert_eq!(hex(k.as_bytes()), "53b89a5f8c7fa35052f25dec0144abf4");
        assert_eq!(
            hex(&k.encrypt(br#"{"name":"hello world"}"#)),
            "9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"
        );
        assert_eq!(hex(&k.encrypt(b"124")), "747f2692ab4effb9d3d44b4f43989c9a");
        assert_eq!(
            hex(&k.encrypt(b"0123456789abcdef")),
            "ac0482241a3b0f32394df5b7f9f3cb170756bf392dc24fd65c8b36888fefe5ed"
        );
    }

    #[test]
    fn round_trip_and_strict_padding() {
        let k = PskKey::derive(SECRET, b"ad2b3a5eb51d64f7");
        for n in [0usize, 1, 15, 16, 17, 1000] {
            let p: Vec<u8> = (0..n).map(|i| i as u8).collect();
            assert_eq!(k.decrypt(&k.encrypt(&p)).unwrap(), p);
        }
        assert_eq!(k.decrypt(&[]), Err(DecryptError));
        assert_eq!(k.decrypt(&[0u8; 15]), Err(DecryptError));
        // Random blocks almost never decrypt to valid padding; none may panic.
        let mut bad = 0;
        for i in 0..256u32 {
            let block: Vec<u8> = (0..32u32)
                .map(|j| (i.wrapping_mul(31) ^ j.wrapping_mul(7)) as u8)
                .collect();
            if k.decrypt(&block).is_err() {
                bad += 1;
            }
        }
        assert!(bad > 200);
        // Tamper with the last byte of a valid ciphertext: padding check fails.
        let mut c = k.encrypt(b"124");
        let last = c.len() - 1;
        c[last] ^= 0x55;
        assert_eq!(k.decrypt(&c), Err(DecryptError));
    }
}

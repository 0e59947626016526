//! PSK ("symmetric encryption") mode: key derivation and AES-128-CBC.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;
#[cfg(target_os = "none")]
use alloc::boxed::Box;
use alloc::vec::Vec;
use sha2::{Digest, Sha256};

/// The fixed IV of the platform's PSK mode.
pub const IV: &[u8; 16] = b"543yhjy97ae7fyfg";

/// AES-128 key of one authenticated session.
///
/// On bare metal the expanded key (AES round keys, 352 bytes on a 32-bit
/// core) is kept with it, on the heap, from the auth on: encrypting or
/// decrypting a datagram then takes no stack for round keys or for the key
/// schedule (~1.2 KB of the stack of the task that calls `IOT_CoAP_Yield`,
/// measured on the Cortex-M4). Elsewhere the round keys are expanded per
/// datagram, as the host's AES (AES-NI or 64-bit fixslice) keeps twice as
/// much and stack is plentiful.
#[derive(Clone)]
pub struct PskKey {
    key: [u8; 16],
    #[cfg(target_os = "none")]
    cipher: Box<Aes128>,
}

impl PartialEq for PskKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for PskKey {}

impl core::fmt::Debug for PskKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys never reach logs.
        f.write_str("PskKey(..)")
    }
}

impl PskKey {
    /// Bytes 8..24 of `SHA256(secret + "," + random)`.
    pub fn derive(device_secret: &[u8], random: &[u8]) -> Self {
        PskKey::from_bytes(derive_key(device_secret, random))
    }

    pub fn from_bytes(k: [u8; 16]) -> Self {
        PskKey {
            key: k,
            #[cfg(target_os = "none")]
            cipher: expand(&k),
        }
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.key
    }

    fn with_cipher<R>(&self, f: impl FnOnce(&Aes128) -> R) -> R {
        #[cfg(target_os = "none")]
        {
            f(&self.cipher)
        }
        #[cfg(not(target_os = "none"))]
        {
            f(&Aes128::new(&self.key.into()))
        }
    }

    /// PKCS#7-padded AES-128-CBC; a 16-byte input gets a full pad block.
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = alloc::vec![0; cipher_len(plain.len())];
        self.encrypt_to(plain, &mut out);
        out
    }

    /// [`PskKey::encrypt`] into `out`, which must be
    /// [`cipher_len`]`(plain.len())` bytes: lets a datagram be encrypted in
    /// place, with no buffer of its own. CBC by hand, block by block on the
    /// key by reference (the `cbc` crate's wrapper holds a copy of the
    /// round keys).
    pub fn encrypt_to(&self, plain: &[u8], out: &mut [u8]) {
        debug_assert_eq!(out.len(), cipher_len(plain.len()));
        // `get_mut`: copy_from_slice then sees equal lengths, and neither it
        // nor a slice bound can fail (each would link core's panic path).
        let pad = out.len().wrapping_sub(plain.len()) as u8;
        if let Some(head) = out.get_mut(..plain.len()) {
            head.copy_from_slice(plain);
        }
        if let Some(tail) = out.get_mut(plain.len()..) {
            tail.fill(pad);
        }
        self.with_cipher(|c| {
            let mut prev = *IV;
            for block in out.chunks_exact_mut(16) {
                for (b, p) in block.iter_mut().zip(prev) {
                    *b ^= p;
                }
                c.encrypt_block(GenericArray::from_mut_slice(block));
                prev.copy_from_slice(block);
            }
        });
    }

    /// Fails on a length that is not a positive multiple of 16 or on bad
    /// padding (each pad byte must equal the pad length, 1..=16).
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Vec<u8>, DecryptError> {
        self.decrypt_with_spare(cipher, 0)
    }

    /// [`PskKey::decrypt`], in place in one buffer that keeps room for
    /// `spare` more bytes after the plaintext.
    pub fn decrypt_with_spare(&self, cipher: &[u8], spare: usize) -> Result<Vec<u8>, DecryptError> {
        let mut buf = Vec::with_capacity(cipher.len() + spare);
        self.decrypt_append(cipher, &mut buf)?;
        Ok(buf)
    }

    /// [`PskKey::decrypt`], appending the plaintext to `out` (decrypted in
    /// place there: no buffer of its own). On an error `out` may hold
    /// garbage past its former length; the caller truncates it.
    // Not inlined: where the round keys are expanded per call, its frame
    // holds them, and would stay on the stack of the caller's other work
    // (e.g. the uplinks a PSK auth answer re-encrypts).
    #[inline(never)]
    pub fn decrypt_append(&self, cipher: &[u8], out: &mut Vec<u8>) -> Result<(), DecryptError> {
        if cipher.is_empty() || cipher.len() % 16 != 0 {
            return Err(DecryptError);
        }
        let start = out.len();
        out.extend_from_slice(cipher);
        let buf = out.get_mut(start..).unwrap_or_default();
        self.with_cipher(|c| {
            let mut prev = *IV;
            for block in buf.chunks_exact_mut(16) {
                let mut next = [0u8; 16];
                next.copy_from_slice(block);
                c.decrypt_block(GenericArray::from_mut_slice(block));
                for (b, p) in block.iter_mut().zip(prev) {
                    *b ^= p;
                }
                prev = next;
            }
        });
        let pad = usize::from(buf.last().copied().unwrap_or(0));
        if pad == 0
            || pad > 16
            || buf[buf.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(DecryptError);
        }
        out.truncate(out.len() - pad);
        Ok(())
    }
}

/// The raw AES-128 key of [`PskKey::derive`]: bytes 8..24 of
/// SHA-256(deviceSecret "," random).
pub fn derive_key(device_secret: &[u8], random: &[u8]) -> [u8; 16] {
    // One buffer, one update: each `update` call is inlined block
    // handling, and this runs once per auth.
    let mut input = Vec::with_capacity(device_secret.len() + 1 + random.len());
    for part in [device_secret, b",", random] {
        input.extend_from_slice(part);
    }
    let d = Sha256::digest(&input);
    let mut k = [0u8; 16];
    for (dst, src) in k.iter_mut().zip(d.iter().skip(8)) {
        *dst = *src;
    }
    k
}

/// The round keys, once per key (bare metal). The key schedule's frame
/// (~720 bytes on a Cortex-M4: its own round keys and the result) is the
/// deepest point of a PSK session's stack, reached once per auth.
#[cfg(target_os = "none")]
#[inline(never)]
fn expand(k: &[u8; 16]) -> Box<Aes128> {
    Box::new(Aes128::new(&(*k).into()))
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

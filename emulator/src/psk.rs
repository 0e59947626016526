//! PSK ("symmetric encryption") mode: key derivation and AES-128-CBC with
//! strict PKCS#7 padding validation.

use aes::cipher::{
    block_padding::NoPadding, block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit,
};
use sha2::{Digest, Sha256};

/// The fixed IV of the platform's PSK mode.
pub const IV: &[u8; 16] = b"543yhjy97ae7fyfg";

type Enc = cbc::Encryptor<aes::Aes128>;
type Dec = cbc::Decryptor<aes::Aes128>;

/// AES key: bytes 8..24 of SHA256(secret + "," + random).
pub fn derive_key(secret: &str, random: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(b",");
    h.update(random.as_bytes());
    let digest = h.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[8..24]);
    key
}

/// AES-128-CBC with PKCS#7 padding (always at least one pad byte).
pub fn encrypt(key: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    Enc::new(key.into(), IV.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext)
}

/// Why a ciphertext was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptError {
    /// Empty or not a multiple of the block size.
    BadLength,
    /// Pad length outside 1..=16, or pad bytes not all equal.
    BadPadding,
}

impl std::fmt::Display for DecryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecryptError::BadLength => "ciphertext length is not a positive multiple of 16",
            DecryptError::BadPadding => "invalid PKCS#7 padding",
        })
    }
}

/// Decrypts and validates the padding (1..16, all pad bytes equal) before
/// stripping it.
pub fn decrypt(key: &[u8; 16], ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(DecryptError::BadLength);
    }
    let mut buf = Dec::new(key.into(), IV.into())
        .decrypt_padded_vec_mut::<NoPadding>(ciphertext)
        .map_err(|_| DecryptError::BadLength)?;
    let n = *buf.last().expect("non-empty") as usize;
    if n == 0 || n > 16 || buf[buf.len() - n..].iter().any(|&b| b as usize != n) {
        return Err(DecryptError::BadPadding);
    }
    buf.truncate(buf.len() - n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hex;

    #[test]
    fn vectors() {
        let key = derive_key("s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB", "ad2b3a5eb51d64f7");
        assert_eq!(hex(&key), "53b89a5f8c7fa35052f25dec0144abf4");
        let ct = encrypt(&key, br#"{"name":"hello world"}"#);
        assert_eq!(
            hex(&ct),
            "9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"
        );
        assert_eq!(
            hex(&encrypt(&key, b"124")),
            "747f2692ab4effb9d3d44b4f43989c9a"
        );
        let ct = encrypt(&key, b"0123456789abcdef");
        assert_eq!(
            hex(&ct),
            "ac0482241a3b0f32394df5b7f9f3cb170756bf392dc24fd65c8b36888fefe5ed"
        );
        assert_eq!(decrypt(&key, &ct).unwrap(), b"0123456789abcdef");
        assert_eq!(decrypt(&key, &ct[..15]), Err(DecryptError::BadLength));
        // Last block alone decrypts (with a wrong IV chain) to garbage padding.
        let mut bad = ct.clone();
        bad[20] ^= 1;
        assert_eq!(decrypt(&key, &bad), Err(DecryptError::BadPadding));
    }
}

//! The platform's PSK mode, written apart from the library's code so tests
//! can check what the library (and the emulator, which uses it) encrypts:
//! key = bytes 8..24 of SHA-256(secret "," random), AES-128-CBC, PKCS#7,
//! fixed IV.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha2::{Digest, Sha256};

const IV: &[u8; 16] = b"543yhjy97ae7fyfg";

pub fn derive(secret: &str, random: &str) -> [u8; 16] {
    let d = Sha256::digest(format!("{secret},{random}").as_bytes());
    let mut k = [0; 16];
    k.copy_from_slice(&d[8..24]);
    k
}

pub fn encrypt(key: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<aes::Aes128>::new(key.into(), IV.into()).encrypt_padded_vec_mut::<Pkcs7>(plain)
}

/// `None` when the padding is not valid PKCS#7.
pub fn decrypt(key: &[u8; 16], cipher: &[u8]) -> Option<Vec<u8>> {
    cbc::Decryptor::<aes::Aes128>::new(key.into(), IV.into())
        .decrypt_padded_vec_mut::<Pkcs7>(cipher)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// The vectors of docs/protocol.md.
    #[test]
    fn protocol_vectors() {
        let key = derive(crate::device::SECRET, "ad2b3a5eb51d64f7");
        assert_eq!(hex(&key), "53b89a5f8c7fa35052f25dec0144abf4");
        let ct = encrypt(&key, br#"{"name":"hello world"}"#);
        assert_eq!(
            hex(&ct),
            "9a1dffa521023f7adbf2cac04354d65ae4d0ac8899c5f24b922004857c2a30a8"
        );
        assert_eq!(decrypt(&key, &ct).unwrap(), br#"{"name":"hello world"}"#);
        assert_eq!(decrypt(&key, &ct[..16]), None);
    }
}

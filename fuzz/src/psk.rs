//! The platform's PSK mode, written apart from the library's code so the
//! harness can check what the library decrypts: key = bytes 8..24 of
//! SHA-256(secret "," random), AES-128-CBC, PKCS#7, fixed IV.

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

pub fn decrypt(key: &[u8; 16], cipher: &[u8]) -> Option<Vec<u8>> {
    cbc::Decryptor::<aes::Aes128>::new(key.into(), IV.into())
        .decrypt_padded_vec_mut::<Pkcs7>(cipher)
        .ok()
}

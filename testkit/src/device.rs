//! The test device of `docs/protocol.md` ("Test vectors"); the C tests get
//! the same values from `tests/c/test_device.h`.

pub const PK: &str = "a1TestPK001";
pub const DN: &str = "dev-001";
pub const SECRET: &str = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";
/// The client id the vendor SDK derives: `PK.DN`.
pub const CLIENT_ID: &str = "a1TestPK001.dev-001";
/// The device's own uplink topic.
pub const TOPIC: &str = "/topic/a1TestPK001/dev-001/update";

/// The emulator's `--device PK:DN:SECRET` argument for the test device.
pub fn triple() -> String {
    format!("{PK}:{DN}:{SECRET}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_agree() {
        assert_eq!(CLIENT_ID, format!("{PK}.{DN}"));
        assert_eq!(TOPIC, format!("/topic/{PK}/{DN}/update"));
        assert_eq!(triple().split(':').count(), 3);
    }
}

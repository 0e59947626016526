//! The driver's side of stored sessions (feature `session-store`): reading
//! the record at start-up and writing it whenever the session asks, through
//! [`Platform::load_session`]/[`Platform::store_session`]. The record
//! itself is [`crate::core::resume`]'s.

use alloc::vec;

use super::{LogLevel, Platform};
use crate::core::resume::{self, Identity, MAX_RECORD_LEN};
use crate::core::session::{Config, Session};
use crate::core::url::Endpoint;

/// Whose record: the configuration's device.
fn identity(cfg: &Config) -> Identity<'_> {
    Identity {
        product_key: &cfg.product_key,
        device_name: &cfg.device_name,
        client_id: &cfg.client_id,
        device_secret: &cfg.device_secret,
    }
}

fn log<P: Platform>(platform: &P, level: LogLevel, line: &str) {
    if platform.log_enabled(level) {
        platform.log(level, &[line]);
    }
}

/// A session from the stored record when there is a valid one for this
/// device and endpoint (`true`), else a fresh one. A missing, corrupt or
/// foreign record only means a normal auth.
pub(crate) fn restore<P: Platform, U>(
    platform: &P,
    endpoint: &Endpoint,
    cfg: Config,
) -> (Session<U>, bool) {
    let mut buf = vec![0u8; MAX_RECORD_LEN];
    let Some(len) = platform.load_session(&mut buf) else {
        return (Session::new(cfg), false);
    };
    match resume::decode(&identity(&cfg), endpoint, &buf[..len.min(buf.len())]) {
        Ok(state) => {
            log(platform, LogLevel::Info, "stored session resumed");
            (Session::resumed(cfg, state), true)
        }
        Err(_) => {
            log(
                platform,
                LogLevel::Info,
                "stored session not usable (corrupt, or another device or endpoint): authenticating",
            );
            (Session::new(cfg), false)
        }
    }
}

/// Writes the record if the session changed it. Called before anything
/// the session produced is transmitted, with the session locked, so
/// records are written in order and ahead of the numbers they reserve.
pub(crate) fn persist<P: Platform, U>(platform: &P, endpoint: &Endpoint, session: &mut Session<U>) {
    if let Some(state) = session.take_persist() {
        let record = resume::encode(&identity(session.config()), endpoint, &state);
        if !platform.store_session(&record) {
            log(
                platform,
                LogLevel::Warning,
                "stored session not written (HAL_Kv_Set failed): the next wake may resume an older one",
            );
        }
    }
}

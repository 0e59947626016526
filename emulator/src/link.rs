//! `--link PROFILE[:SCALE]`: the link model of `bench/link` (crate
//! `iotx-coap-link`) applied to every datagram of a listener, in real
//! time: each datagram is lost or held for the delay the model draws
//! (heavy-tailed per direction, loss, bursts, radio-off windows), with the
//! model's clock running from the listener's start. `SCALE` multiplies
//! every delay and window (`nbiot:0.25` is NB-IoT four times faster), so
//! end-to-end runs of the C library take seconds, not hours.
//!
//! Applied before, and instead of, the `--drop`/`--delay` faults.

use std::time::{Duration, Instant};

use iotx_coap_link::{Dir, Link, Profile};

/// Profiles: `fast`, `nbiot`, `nbiot-loss10`, `nbiot-bursts`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    pub profile: Profile,
}

impl LinkSpec {
    /// `PROFILE` or `PROFILE:SCALE` (scale > 0, default 1).
    pub fn parse(v: &str) -> Result<LinkSpec, String> {
        let (name, scale) = match v.split_once(':') {
            Some((n, s)) => (
                n,
                s.parse::<f64>().ok().filter(|s| *s > 0.0 && s.is_finite()),
            ),
            None => (v, Some(1.0)),
        };
        let names = "fast, nbiot, nbiot-loss10, nbiot-bursts";
        let profile = Profile::by_name(name)
            .ok_or_else(|| format!("--link: no profile {name:?} (one of {names})"))?;
        let scale = scale.ok_or_else(|| format!("--link: bad scale in {v:?}"))?;
        Ok(LinkSpec {
            profile: profile.scaled(scale),
        })
    }
}

/// One listener's link, its clock running from `start`.
pub struct LinkModel {
    link: Link<()>,
    start: Instant,
}

impl LinkModel {
    pub fn new(spec: &LinkSpec, seed: u64, start: Instant) -> LinkModel {
        LinkModel {
            link: Link::new(spec.profile, seed),
            start,
        }
    }

    /// How long a datagram arriving (`inbound`) or leaving at `now` is
    /// held, or `None` when the link loses it.
    pub fn delay(&mut self, now: Instant, inbound: bool) -> Option<Duration> {
        let now = now.saturating_duration_since(self.start).as_millis() as u64;
        let dir = if inbound { Dir::Up } else { Dir::Down };
        let at = self.link.fate(now, dir)?;
        Some(Duration::from_millis(at - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_profiles_and_scales() {
        let s = LinkSpec::parse("nbiot:0.25").unwrap();
        assert_eq!(s.profile.up.base_ms, 100.0);
        assert!(LinkSpec::parse("nbiot").is_ok());
        assert!(LinkSpec::parse("wifi").is_err());
        assert!(LinkSpec::parse("nbiot:0").is_err());
        let t0 = Instant::now();
        let mut m = LinkModel::new(&LinkSpec::parse("fast").unwrap(), 1, t0);
        assert!(m.delay(t0, true).unwrap() < Duration::from_millis(60));
    }
}

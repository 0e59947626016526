//! A model of a constrained radio link, sans-IO and seeded: what an NB-IoT
//! path does to datagrams (a delay per direction with a heavy tail, loss,
//! bursts of loss, radio-off windows), on the caller's clock.
//!
//! [`Link::send`] decides a datagram's fate at once (lost, or delivered at
//! some later time); [`Link::poll`] hands out what is due. The same seed
//! and the same calls give the same fates, so a bench on a simulated
//! clock is exactly repeatable and runs thousands of uplinks in seconds,
//! and the emulator (`iotx-coap-sim --link`) applies the same model in
//! real time.
//!
//! Host code only (floating point): nothing here goes into firmware.

/// Which way a datagram travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Device to network.
    Up,
    /// Network to device.
    Down,
}

/// A one-way delay distribution (ms): `base` plus a log-normal body
/// (`median`, `sigma`), and with probability `tail_p` a Pareto tail
/// (scale `tail_ms`, shape `tail_alpha`) on top; capped at `cap`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delay {
    pub base_ms: f64,
    pub median_ms: f64,
    pub sigma: f64,
    pub tail_p: f64,
    pub tail_ms: f64,
    pub tail_alpha: f64,
    pub cap_ms: f64,
}

/// Loss that comes in bursts (a two-state Gilbert-Elliott channel in
/// time): good periods of mean `good_ms` with loss `Profile::loss`, bad
/// ones of mean `bad_ms` losing `bad_loss` of the datagrams.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burst {
    pub good_ms: f64,
    pub bad_ms: f64,
    pub bad_loss: f64,
}

/// Periodic windows without radio (cell reselection, a paging cycle): a
/// datagram that would leave or arrive inside one waits for its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RadioOff {
    pub period_ms: u64,
    pub off_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub up: Delay,
    pub down: Delay,
    /// Independent loss per datagram and direction.
    pub loss: f64,
    pub burst: Option<Burst>,
    pub radio_off: Option<RadioOff>,
}

/// An NB-IoT one-way delay: 0.4 s plus a log-normal body with a median of
/// 0.8 s, and one datagram in 20 another Pareto-distributed 1 s or more:
/// round trips of 1.5 to 10 s, as in coverage enhancement with RRC
/// set-up and paging.
pub const NBIOT_DELAY: Delay = Delay {
    base_ms: 400.0,
    median_ms: 800.0,
    sigma: 0.6,
    tail_p: 0.05,
    tail_ms: 1000.0,
    tail_alpha: 1.5,
    cap_ms: 9000.0,
};

impl Profile {
    /// Loopback-like: about a millisecond, nothing lost.
    pub const FAST: Profile = Profile {
        name: "fast",
        up: Delay {
            base_ms: 0.2,
            median_ms: 0.5,
            sigma: 0.5,
            tail_p: 0.0,
            tail_ms: 1.0,
            tail_alpha: 2.0,
            cap_ms: 50.0,
        },
        down: Delay {
            base_ms: 0.2,
            median_ms: 0.5,
            sigma: 0.5,
            tail_p: 0.0,
            tail_ms: 1.0,
            tail_alpha: 2.0,
            cap_ms: 50.0,
        },
        loss: 0.0,
        burst: None,
        radio_off: None,
    };
    pub const NBIOT: Profile = Profile {
        name: "nbiot",
        up: NBIOT_DELAY,
        down: NBIOT_DELAY,
        loss: 0.0,
        burst: None,
        radio_off: None,
    };
    /// 10 % of the datagrams lost in each direction.
    pub const NBIOT_LOSS10: Profile = Profile {
        name: "nbiot-loss10",
        loss: 0.10,
        ..Profile::NBIOT
    };
    /// 1 % loss, bursts of mean 10 s losing 90 % every ~2 min, and a
    /// 3 s radio-off window every minute.
    pub const NBIOT_BURSTS: Profile = Profile {
        name: "nbiot-bursts",
        loss: 0.01,
        burst: Some(Burst {
            good_ms: 120_000.0,
            bad_ms: 10_000.0,
            bad_loss: 0.9,
        }),
        radio_off: Some(RadioOff {
            period_ms: 60_000,
            off_ms: 3_000,
        }),
        ..Profile::NBIOT
    };

    pub const ALL: [Profile; 4] = [
        Profile::FAST,
        Profile::NBIOT,
        Profile::NBIOT_LOSS10,
        Profile::NBIOT_BURSTS,
    ];

    pub fn by_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name == name)
    }

    /// The same profile with every delay (and window) multiplied by
    /// `scale`: an end-to-end run in real time, compressed.
    pub fn scaled(mut self, scale: f64) -> Profile {
        for d in [&mut self.up, &mut self.down] {
            d.base_ms *= scale;
            d.median_ms *= scale;
            d.tail_ms *= scale;
            d.cap_ms *= scale;
        }
        if let Some(b) = &mut self.burst {
            b.good_ms *= scale;
            b.bad_ms *= scale;
        }
        if let Some(r) = &mut self.radio_off {
            r.period_ms = ((r.period_ms as f64 * scale) as u64).max(1);
            r.off_ms = (r.off_ms as f64 * scale) as u64;
        }
        self
    }
}

/// splitmix64: seeded, tiny, good enough for a channel model.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        // Box-Muller.
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }
}

impl Delay {
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        let mut d = self.base_ms + self.median_ms * (self.sigma * rng.normal()).exp();
        if rng.unit() < self.tail_p {
            d += self.tail_ms / rng.unit().powf(1.0 / self.tail_alpha);
        }
        d.min(self.cap_ms)
    }
}

/// The link: datagrams (any `T`) in flight, each with its arrival time.
pub struct Link<T> {
    profile: Profile,
    rng: Rng,
    /// Burst state: bad until/good until this time.
    bad: bool,
    state_until: f64,
    in_flight: Vec<(u64, u64, Dir, T)>,
    order: u64,
    /// Datagrams sent and lost, per direction (up, down).
    pub sent: [u64; 2],
    pub lost: [u64; 2],
}

impl<T> Link<T> {
    pub fn new(profile: Profile, seed: u64) -> Link<T> {
        let mut rng = Rng::new(seed ^ 0x4c49_4e4b);
        let state_until = profile
            .burst
            .map_or(f64::INFINITY, |b| rng.exponential(b.good_ms));
        Link {
            profile,
            rng,
            bad: false,
            state_until,
            in_flight: Vec::new(),
            order: 0,
            sent: [0; 2],
            lost: [0; 2],
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn loss_at(&mut self, now: u64) -> f64 {
        if let Some(b) = self.profile.burst {
            while self.state_until <= now as f64 {
                self.bad = !self.bad;
                let mean = if self.bad { b.bad_ms } else { b.good_ms };
                self.state_until += self.rng.exponential(mean);
            }
            if self.bad {
                return b.bad_loss;
            }
        }
        self.profile.loss
    }

    /// The end of the radio-off window `t` falls in, or `t`.
    fn radio_on(&self, t: u64) -> u64 {
        match self.profile.radio_off {
            Some(r) if r.off_ms > 0 && t % r.period_ms < r.off_ms => t - t % r.period_ms + r.off_ms,
            _ => t,
        }
    }

    /// When a datagram sent at `now` would arrive, or `None` when lost.
    /// Draws the same random numbers either way.
    pub fn fate(&mut self, now: u64, dir: Dir) -> Option<u64> {
        let i = dir as usize;
        self.sent[i] += 1;
        let loss = self.loss_at(now);
        let lost = self.rng.unit() < loss;
        let delay = match dir {
            Dir::Up => self.profile.up,
            Dir::Down => self.profile.down,
        }
        .sample(&mut self.rng);
        if lost {
            self.lost[i] += 1;
            return None;
        }
        let depart = self.radio_on(now);
        Some(self.radio_on(depart + delay.round() as u64))
    }

    /// Sends `item` at `now`; `false` when the link loses it.
    pub fn send(&mut self, now: u64, dir: Dir, item: T) -> bool {
        match self.fate(now, dir) {
            Some(at) => {
                self.order += 1;
                self.in_flight.push((at, self.order, dir, item));
                true
            }
            None => false,
        }
    }

    /// When the next datagram arrives, if any is in flight.
    pub fn next_arrival(&self) -> Option<u64> {
        self.in_flight.iter().map(|e| e.0).min()
    }

    /// The earliest datagram due at `now` (ties in sending order).
    pub fn poll(&mut self, now: u64) -> Option<(Dir, T)> {
        let i = self
            .in_flight
            .iter()
            .enumerate()
            .filter(|(_, e)| e.0 <= now)
            .min_by_key(|(_, e)| (e.0, e.1))
            .map(|(i, _)| i)?;
        let (_, _, dir, item) = self.in_flight.swap_remove(i);
        Some((dir, item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_fates() {
        let fates = |seed| {
            let mut l: Link<()> = Link::new(Profile::NBIOT_BURSTS, seed);
            (0..500u64)
                .map(|i| l.fate(i * 1000, Dir::Up))
                .collect::<Vec<_>>()
        };
        assert_eq!(fates(3), fates(3));
        assert_ne!(fates(3), fates(4));
    }

    #[test]
    fn nbiot_round_trips_are_seconds_with_a_tail() {
        let mut rng = Rng::new(1);
        let mut rtt: Vec<f64> = (0..20_000)
            .map(|_| NBIOT_DELAY.sample(&mut rng) + NBIOT_DELAY.sample(&mut rng))
            .collect();
        rtt.sort_by(f64::total_cmp);
        let q = |p: f64| rtt[(p * rtt.len() as f64) as usize];
        assert!((1500.0..3500.0).contains(&q(0.5)), "median {}", q(0.5));
        assert!(q(0.99) > 2.0 * q(0.5), "p99 {}", q(0.99));
        assert!(q(0.999) <= 18_000.0);
    }

    #[test]
    fn loss_rate_and_radio_off_windows() {
        let mut l: Link<u32> = Link::new(Profile::NBIOT_LOSS10, 9);
        let delivered = (0..10_000u32)
            .filter(|&i| l.send(u64::from(i), Dir::Down, i))
            .count();
        assert!((8800..9200).contains(&delivered), "{delivered}");
        let off = Profile {
            radio_off: Some(RadioOff {
                period_ms: 10_000,
                off_ms: 2000,
            }),
            ..Profile::FAST
        };
        let mut l: Link<()> = Link::new(off, 1);
        let at = l.fate(10_500, Dir::Up).unwrap();
        assert!((12_000..12_060).contains(&at), "{at}");
    }
}

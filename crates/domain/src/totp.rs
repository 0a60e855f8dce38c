//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the
//! optional second step of staff login, and the Base32 form authenticator apps read.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// The code for one time step (RFC 4226 dynamic truncation).
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(DIGITS)
}

pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Checks a typed code against the steps around `unix_seconds` (one step either way, for
/// clock drift), refusing steps at or before `last_used` so a code works once. Returns the
/// step that matched.
pub fn verify(
    secret: &[u8],
    typed: &str,
    unix_seconds: i64,
    last_used: Option<i64>,
) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let want: u32 = typed.parse().ok()?;
    let now = step_of(unix_seconds);
    [now - 1, now, now + 1]
        .into_iter()
        .find(|s| last_used.is_none_or(|l| *s > l) && code_at_step(secret, *s) == want)
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 Base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push(((buffer >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA-1, 8 digits truncated to our 6.
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            assert_eq!(code_at_step(secret, step_of(t)), eight % 1_000_000, "t={t}");
        }
    }

    #[test]
    fn verification_window_and_replay() {
        let secret = b"12345678901234567890";
        let t = 1111111111;
        let code = format!("{:06}", code_at_step(secret, step_of(t)));
        assert_eq!(verify(secret, &code, t, None), Some(step_of(t)));
        assert_eq!(
            verify(secret, &code, t + 30, None),
            Some(step_of(t)),
            "one step of drift"
        );
        assert_eq!(verify(secret, &code, t + 90, None), None, "too old");
        assert_eq!(
            verify(secret, &code, t, Some(step_of(t))),
            None,
            "used once already"
        );
        assert_eq!(verify(secret, "12345", t, None), None);
        assert_eq!(verify(secret, "abcdef", t, None), None);
    }

    #[test]
    fn base32_known() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(
            base32_decode("mzxw 6ytb oi").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(base32_decode("1"), None);
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(base32_decode(&base32_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn codes_have_six_digits(secret in proptest::collection::vec(any::<u8>(), 1..40), step in 0i64..100_000_000) {
            prop_assert!(code_at_step(&secret, step) < 1_000_000);
        }
    }
}

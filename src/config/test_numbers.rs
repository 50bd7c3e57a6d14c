//! `HUDDLE_SMS_TEST_NUMBERS`: phone numbers whose captcha code is fixed (no
//! SMS is sent). Exact numbers (`8613800000000:123456`) or, for load tests,
//! a prefix of at least 8 digits ending in `*` (`861390*:246810` is refused,
//! `86139000*:246810` covers 8613900000000–8613900099999).

use std::collections::HashMap;

use super::ConfigError;

/// The shortest prefix a wildcard entry may have (so no entry can cover a
/// whole country by mistake).
const MIN_PREFIX_DIGITS: usize = 8;

/// Fixed captcha codes by number (country code + mobile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestNumbers {
    exact: HashMap<String, String>,
    /// (prefix, code), longest prefix first.
    prefixes: Vec<(String, String)>,
}

impl TestNumbers {
    /// Parses `NUMBER:CODE,PREFIX*:CODE,…`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut out = Self::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (number, code) = entry.split_once(':').ok_or_else(|| {
                ConfigError(format!(
                    "HUDDLE_SMS_TEST_NUMBERS entry {entry:?} is not NUMBER:CODE"
                ))
            })?;
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let (number, wildcard) = match number.strip_suffix('*') {
                Some(prefix) => (prefix, true),
                None => (number, false),
            };
            if !digits(number) || !digits(code) || !(4..=6).contains(&code.len()) {
                return Err(ConfigError(format!(
                    "HUDDLE_SMS_TEST_NUMBERS entry {entry:?}: number must be digits and the code 4-6 digits"
                )));
            }
            if wildcard {
                if number.len() < MIN_PREFIX_DIGITS {
                    return Err(ConfigError(format!(
                        "HUDDLE_SMS_TEST_NUMBERS entry {entry:?}: a prefix needs at least {MIN_PREFIX_DIGITS} digits"
                    )));
                }
                out.prefixes.push((number.to_owned(), code.to_owned()));
            } else {
                out.exact.insert(number.to_owned(), code.to_owned());
            }
        }
        out.prefixes
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Ok(out)
    }

    /// The fixed code of `number`, if it is a test number.
    pub fn code_for(&self, number: &str) -> Option<&str> {
        self.exact.get(number).map(String::as_str).or_else(|| {
            self.prefixes
                .iter()
                .find(|(prefix, _)| number.starts_with(prefix.as_str()))
                .map(|(_, code)| code.as_str())
        })
    }

    /// No test number configured.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// Adds one exact number (tests).
    pub fn insert(&mut self, number: &str, code: &str) {
        self.exact.insert(number.to_owned(), code.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_numbers_and_long_prefixes() {
        let t =
            TestNumbers::parse("8613800000000:123456, 86139000*:2468,8613900012*:1111").unwrap();
        assert_eq!(t.code_for("8613800000000"), Some("123456"));
        assert_eq!(t.code_for("8613800000001"), None);
        assert_eq!(t.code_for("8613900099999"), Some("2468"));
        assert_eq!(
            t.code_for("8613900012345"),
            Some("1111"),
            "longest prefix wins"
        );
        assert_eq!(t.code_for("8613900100000"), None);
        for bad in [
            "86138:12",
            "86138",
            "8613*:123456",
            "86139000*:12a456",
            "*:123456",
        ] {
            assert!(TestNumbers::parse(bad).is_err(), "{bad}");
        }
    }
}

//! Phone numbers as the account API receives them: a country calling code and a
//! national number, digits only. The only constructor validates.

use crate::envelope::ApiError;

/// A validated phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    country_code: String,
    mobile: String,
}

impl Phone {
    /// `countryCode`: 1–4 digits (a leading `+` is dropped); `mobile`: 4–15 digits.
    pub fn parse(country_code: &str, mobile: &str) -> Result<Self, ApiError> {
        let country_code = country_code.trim().trim_start_matches('+');
        let mobile = mobile.trim();
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if country_code.is_empty() || country_code.len() > 4 || !digits(country_code) {
            return Err(ApiError::BadRequest(
                "countryCode must be 1-4 digits".into(),
            ));
        }
        if !(4..=15).contains(&mobile.len()) || !digits(mobile) {
            return Err(ApiError::BadRequest("mobile must be 4-15 digits".into()));
        }
        Ok(Self {
            country_code: country_code.to_owned(),
            mobile: mobile.to_owned(),
        })
    }

    /// Country calling code, e.g. "86".
    pub fn country_code(&self) -> &str {
        &self.country_code
    }

    /// National number.
    pub fn mobile(&self) -> &str {
        &self.mobile
    }

    /// Country code and number run together (`8613800000000`), the form used
    /// by `HUDDLE_SMS_TEST_NUMBERS` and cache keys.
    pub fn full(&self) -> String {
        format!("{}{}", self.country_code, self.mobile)
    }

    /// For logs: `+86 138****0000`.
    pub fn masked(&self) -> String {
        let m = &self.mobile;
        let shown_tail = &m[m.len().saturating_sub(4)..];
        let head = if m.len() >= 8 { &m[..3] } else { "" };
        format!("+{} {head}****{shown_tail}", self.country_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let p = Phone::parse("+86", "13800001234").unwrap();
        assert_eq!(p.full(), "8613800001234");
        assert_eq!(p.masked(), "+86 138****1234");
        assert_eq!(Phone::parse("1", "5551").unwrap().masked(), "+1 ****5551");
    }

    #[test]
    fn refuses_non_digits_and_lengths() {
        for (cc, m) in [
            ("86", "138-0000-1234"),
            ("86", "123"),
            ("86", "1234567890123456"),
            ("", "13800001234"),
            ("86a", "13800001234"),
            ("12345", "13800001234"),
        ] {
            assert!(Phone::parse(cc, m).is_err(), "{cc} {m}");
        }
    }
}

//! UTC calendar dates from Unix time, for signature timestamps.

/// A UTC date and time to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// Year.
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=59.
    pub second: u32,
}

impl UtcTime {
    /// The UTC time of `unix_secs` (seconds since 1970-01-01T00:00:00Z).
    pub fn from_unix(unix_secs: i64) -> Self {
        let days = unix_secs.div_euclid(86_400);
        let secs = unix_secs.rem_euclid(86_400);
        // Civil date from days since the epoch (H. Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        Self {
            year,
            month: small(month),
            day: small(day),
            hour: small(secs / 3_600),
            minute: small(secs % 3_600 / 60),
            second: small(secs % 60),
        }
    }

    /// `YYYYMMDD`.
    pub fn date_stamp(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDDTHHMMSSZ` (ISO 8601 basic format).
    pub fn amz_date(&self) -> String {
        format!(
            "{}T{:02}{:02}{:02}Z",
            self.date_stamp(),
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (ISO 8601 extended format, as Aliyun's RPC APIs want it).
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Unix seconds of `YYYY-MM-DDTHH:MM:SSZ`; `None` for anything else.
    pub fn parse_iso8601(text: &str) -> Option<i64> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z';
        if !shape_ok {
            return None;
        }
        let num = |from: usize, to: usize| -> Option<i64> {
            let part = text.get(from..to)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        // Days since the epoch from a civil date (H. Hinnant's algorithm).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = if month > 2 { month - 3 } else { month + 9 };
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(UtcTime::from_unix(0).amz_date(), "19700101T000000Z");
        // the AWS documentation's example moment
        assert_eq!(
            UtcTime::from_unix(1_369_353_600).amz_date(),
            "20130524T000000Z"
        );
        // a leap day and the last second of a century leap year
        assert_eq!(
            UtcTime::from_unix(951_782_400).amz_date(),
            "20000229T000000Z"
        );
        assert_eq!(
            UtcTime::from_unix(978_307_199).amz_date(),
            "20001231T235959Z"
        );
        assert_eq!(
            UtcTime::from_unix(1_795_259_722).amz_date(),
            "20261121T111522Z"
        );
        assert_eq!(UtcTime::from_unix(-1).amz_date(), "19691231T235959Z");
    }

    #[test]
    fn iso8601_round_trips() {
        for unix in [0, 951_782_400, 1_369_353_600, 1_700_000_000, 4_102_444_799] {
            let text = UtcTime::from_unix(unix).iso8601();
            assert_eq!(UtcTime::parse_iso8601(&text), Some(unix), "{text}");
        }
        assert_eq!(
            UtcTime::from_unix(1_456_231_584).iso8601(),
            "2016-02-23T12:46:24Z"
        );
        for bad in [
            "",
            "2016-02-23 12:46:24Z",
            "2016-13-01T00:00:00Z",
            "2016-02-23T12:46:24",
            "+016-02-23T12:46:24Z",
        ] {
            assert_eq!(UtcTime::parse_iso8601(bad), None, "{bad}");
        }
    }
}

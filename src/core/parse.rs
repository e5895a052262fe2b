//! Parsing constructors: the rules a client-chosen id or name must meet to enter the
//! scheduler, whoever brings it (a gRPC request, the token file, a simulator's roster). A
//! refused value comes back as a `FieldError` naming the field and saying why; the gRPC layer
//! turns it into INVALID_ARGUMENT in one place (`api::status`). The unchecked constructors
//! (`AgentId::new`, `Skill::new`) remain for values the core made or already checked.
//!
//! Ids and names are bounded so records and memory stay bounded.

use super::lease::Epoch;
use super::types::{AgentId, Channel, PerChannelOpt, Skill, SkillSet, TicketId};

pub const MAX_ID_BYTES: usize = 128;
pub const MAX_NAME_BYTES: usize = 256;
pub const MAX_SKILLS: usize = 32;
pub const MAX_SKILL_BYTES: usize = 64;
pub const MAX_CAPACITY: u32 = 1000;

/// A value refused by its field's rule. Displays as `field: reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field as the caller named it, with an index or key where it is one of many
    /// (`skills[2]`, `capacity[fax]`).
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

pub type Parsed<T> = Result<T, FieldError>;

/// Free text of at most `max` bytes with no control characters; when `required`, not empty
/// and not only white space.
pub fn text(field: &str, value: String, max: usize, required: bool) -> Parsed<String> {
    if value.is_empty() && required {
        return Err(FieldError::new(field, "is required"));
    }
    if required && value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be only white space"));
    }
    if value.len() > max {
        let reason = format!("is {} bytes; at most {max} allowed", value.len());
        return Err(FieldError::new(field, reason));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value)
}

/// A display name: optional text of at most `MAX_NAME_BYTES`. Invisible formatting characters
/// are allowed here (ZWNJ is part of Persian spelling).
pub fn display_name(field: &str, value: String) -> Parsed<String> {
    text(field, value, MAX_NAME_BYTES, false)
}

/// A required identifier a person may read and compare (external, customer and request ids):
/// 1 to `MAX_ID_BYTES` bytes, not only white space, free of control characters and of
/// invisible formatting characters, which can make two different ids look the same.
pub fn identifier(field: &str, value: String) -> Parsed<String> {
    let value = text(field, value, MAX_ID_BYTES, true)?;
    if value.chars().any(is_invisible_format) {
        return Err(FieldError::new(
            field,
            "must not contain invisible formatting characters (bidi controls, zero-width)",
        ));
    }
    Ok(value)
}

/// An optional `request_id`: empty means none; otherwise an `identifier`.
pub fn request_id(field: &str, value: String) -> Parsed<String> {
    if value.is_empty() {
        return Ok(value);
    }
    identifier(field, value)
}

/// Unicode format characters that change how text displays without being seen: bidirectional
/// overrides and isolates (which can make one id look like another) and zero-width characters.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

impl AgentId {
    /// An agent id as the `agent_id` field takes it: 1 to 128 bytes of `A-Z a-z 0-9 . _ - : @`.
    pub fn parse(value: &str) -> Parsed<AgentId> {
        AgentId::parse_field("agent_id", value.to_string())
    }

    /// `parse`, naming `field` when refused.
    pub fn parse_field(field: &str, value: String) -> Parsed<AgentId> {
        let value = text(field, value, MAX_ID_BYTES, true)?;
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:@".contains(&b))
        {
            return Err(FieldError::new(
                field,
                "may contain only letters, digits and . _ - : @",
            ));
        }
        Ok(AgentId::new(&value))
    }
}

impl Skill {
    /// A skill: 1 to 64 bytes of `a-z 0-9 . _ - :`, upper case folded to lower.
    pub fn parse(field: &str, value: &str) -> Parsed<Skill> {
        if value.is_empty() || value.len() > MAX_SKILL_BYTES {
            let reason = format!("must be 1 to {MAX_SKILL_BYTES} bytes");
            return Err(FieldError::new(field, reason));
        }
        let lower = value.to_ascii_lowercase();
        if !lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b))
        {
            return Err(FieldError::new(
                field,
                "may contain only letters, digits and . _ - :",
            ));
        }
        Ok(Skill::new(&lower))
    }
}

impl SkillSet {
    /// At most `MAX_SKILLS` skills, each as `Skill::parse` takes it (refused as `field[i]`).
    pub fn parse(field: &str, values: Vec<String>) -> Parsed<SkillSet> {
        if values.len() > MAX_SKILLS {
            let reason = format!("has {} skills; at most {MAX_SKILLS} allowed", values.len());
            return Err(FieldError::new(field, reason));
        }
        let skills = values
            .iter()
            .enumerate()
            .map(|(i, value)| Skill::parse(&format!("{field}[{i}]"), value))
            .collect::<Parsed<Vec<_>>>()?;
        Ok(SkillSet::new(skills))
    }

    /// As `parse`, and where in the sorted set the skill listed first is: the client's order
    /// carries meaning there (widening to the first skill keeps that one), nowhere else.
    pub fn parse_listed(field: &str, values: Vec<String>) -> Parsed<(SkillSet, u8)> {
        let first = values.first().cloned();
        let set = SkillSet::parse(field, values)?;
        let first = first.and_then(|v| Skill::parse(field, &v).ok());
        let lead = set.lead(first.as_ref());
        Ok((set, lead))
    }
}

impl TicketId {
    /// A ticket id a caller names: ids start at 1, so 0 means "not given".
    pub fn parse(field: &str, id: u64) -> Parsed<TicketId> {
        if id == 0 {
            return Err(FieldError::new(
                field,
                "is required (ticket ids start at 1)",
            ));
        }
        Ok(TicketId(id))
    }
}

/// The epoch of an assignment a caller claims to hold: 1 or more.
pub fn lease_epoch(field: &str, epoch: u64) -> Parsed<Epoch> {
    match epoch {
        0 => Err(FieldError::new(
            field,
            "is required: the epoch of your assignment (1 or more)",
        )),
        epoch => Ok(Epoch::new(epoch)),
    }
}

/// Per-channel capacity overrides, keyed by channel name (any case), each at most
/// `MAX_CAPACITY`; refused as `capacity[name]`.
pub fn capacity(entries: impl IntoIterator<Item = (String, u32)>) -> Parsed<PerChannelOpt> {
    let mut capacity = [None; Channel::COUNT];
    for (name, n) in entries {
        let field = format!("capacity[{name}]");
        let Some(c) = Channel::from_label(&name.to_ascii_lowercase()) else {
            return Err(FieldError::new(
                field,
                "is not a channel (chat, messenger, email, phone, social, review)",
            ));
        };
        if n > MAX_CAPACITY {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_CAPACITY}"),
            ));
        }
        capacity[c.index()] = Some(n);
    }
    Ok(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_keep_to_their_alphabet() {
        assert_eq!(
            AgentId::parse("ana.b-1:x@y_z")
                .map(|a| a.to_string())
                .as_deref(),
            Ok("ana.b-1:x@y_z")
        );
        let err = AgentId::parse("a b").expect_err("space");
        assert_eq!(
            err.to_string(),
            "agent_id: may contain only letters, digits and . _ - : @"
        );
        assert_eq!(AgentId::parse("").expect_err("empty").reason, "is required");
        assert!(AgentId::parse(&"a".repeat(MAX_ID_BYTES + 1)).is_err());
    }

    #[test]
    fn skills_fold_case_and_name_the_item() {
        let set = SkillSet::parse("skills", vec!["EN".into(), "billing".into()]).expect("ok");
        assert!(set.contains("en") && set.contains("billing"));
        let err = SkillSet::parse("skills", vec!["en".into(), "en gb".into()]).expect_err("space");
        assert_eq!(err.field, "skills[1]");
    }

    #[test]
    fn identifiers_refuse_invisible_formatting() {
        assert!(identifier("external_id", "a\u{202E}b".into()).is_err());
        assert!(identifier("external_id", "  ".into()).is_err());
        assert_eq!(request_id("request_id", String::new()), Ok(String::new()));
        assert!(display_name("display_name", "a\u{200C}b".into()).is_ok());
    }
}

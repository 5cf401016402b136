//! The member record's fields as `UpdateMember` names them: which a member may change
//! themself, which are personal data (their history values are shown only with a purpose).

use doan_platform::AppError;
use doan_platform::error::AppResult;

/// A changeable field of the member record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// Full name.
    FullName,
    /// Date of birth.
    DateOfBirth,
    /// Sex.
    Sex,
    /// Ethnicity (sensitive).
    Ethnicity,
    /// Religion (sensitive).
    Religion,
    /// Citizen ID.
    CitizenId,
    /// Phone.
    Phone,
    /// Email.
    Email,
    /// Quê quán.
    Hometown,
    /// Residence.
    Residence,
    /// Citizen ID issue date.
    CitizenIdIssuedOn,
    /// Citizen ID issue place.
    CitizenIdIssuedPlace,
    /// Education level.
    EducationLevel,
    /// Professional level.
    ProfessionalLevel,
    /// Political theory level.
    PoliticalTheoryLevel,
    /// IT level.
    ItLevel,
    /// Foreign-language level.
    LanguageLevel,
    /// Occupation.
    Occupation,
}

/// Every field with its name.
pub const FIELDS: [(Field, &str); 18] = [
    (Field::FullName, "full_name"),
    (Field::DateOfBirth, "date_of_birth"),
    (Field::Sex, "sex"),
    (Field::Ethnicity, "ethnicity"),
    (Field::Religion, "religion"),
    (Field::CitizenId, "citizen_id"),
    (Field::Phone, "phone"),
    (Field::Email, "email"),
    (Field::Hometown, "hometown"),
    (Field::Residence, "residence"),
    (Field::CitizenIdIssuedOn, "citizen_id_issued_on"),
    (Field::CitizenIdIssuedPlace, "citizen_id_issued_place"),
    (Field::EducationLevel, "education_level"),
    (Field::ProfessionalLevel, "professional_level"),
    (Field::PoliticalTheoryLevel, "political_theory_level"),
    (Field::ItLevel, "it_level"),
    (Field::LanguageLevel, "language_level"),
    (Field::Occupation, "occupation"),
];

impl Field {
    /// The field named `name` (request field `fields`).
    pub fn parse(name: &str) -> AppResult<Self> {
        FIELDS.iter().find(|(_, n)| *n == name.trim()).map(|(f, _)| *f).ok_or_else(|| {
            AppError::invalid(
                "fields",
                format!("{} is not a field of the member record", doan_platform::text::quote(name)),
            )
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        FIELDS.iter().find(|(f, _)| *f == self).map(|(_, n)| *n).unwrap_or("")
    }

    /// A member may change it themself (contact, residence, occupation, levels).
    pub fn self_service(self) -> bool {
        matches!(
            self,
            Self::Phone
                | Self::Email
                | Self::Residence
                | Self::Occupation
                | Self::EducationLevel
                | Self::ProfessionalLevel
                | Self::ItLevel
                | Self::LanguageLevel
        )
    }

    /// Personal data whose old and new values are stored encrypted and shown only with a
    /// purpose.
    pub fn personal(self) -> bool {
        matches!(
            self,
            Self::DateOfBirth
                | Self::Ethnicity
                | Self::Religion
                | Self::CitizenId
                | Self::Phone
                | Self::Email
                | Self::Residence
                | Self::CitizenIdIssuedOn
                | Self::CitizenIdIssuedPlace
        )
    }
}

/// Parses the `fields` of a request: 1 to 18 distinct names, only self-service ones when
/// `member` changes their own record.
pub fn parse_fields(names: &[String], member: bool) -> AppResult<Vec<Field>> {
    if names.is_empty() || names.len() > FIELDS.len() {
        return Err(AppError::invalid("fields", format!("name 1 to {} fields to change", FIELDS.len())));
    }
    let mut out: Vec<Field> = Vec::new();
    for n in names {
        let f = Field::parse(n)?;
        if out.contains(&f) {
            return Err(AppError::invalid("fields", format!("{} is named twice", f.name())));
        }
        if member && !f.self_service() {
            return Err(AppError::PermissionDenied(format!("{} is changed by an officer of your unit", f.name())));
        }
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_change_their_contact_officers_the_rest() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_fields(&names(&["phone", "residence"]), true).unwrap(), vec![Field::Phone, Field::Residence]);
        assert!(matches!(parse_fields(&names(&["full_name"]), true), Err(AppError::PermissionDenied(_))));
        assert!(parse_fields(&names(&["full_name", "citizen_id"]), false).is_ok());
        assert!(parse_fields(&names(&["phone", "phone"]), false).is_err());
        assert!(parse_fields(&names(&["member_number"]), false).is_err());
        assert!(parse_fields(&[], false).is_err());
        assert!(Field::CitizenId.personal() && !Field::Occupation.personal());
        assert!(FIELDS.iter().all(|(f, n)| Field::parse(n).unwrap() == *f && f.name() == *n));
    }
}

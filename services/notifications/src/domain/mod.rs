//! The notifications domain: no I/O, no proto.
//!
//! - [`notices`]: what each integration event says to the member (Vietnamese texts).
//! - [`preferences`]: categories, channels, quiet hours and who gets what where.
//! - [`broadcasts`]: announcements, directives and meeting invitations: what a valid one is,
//!   how it moves, who a late recipient is escalated to, the completion view.
//! - [`deliveries`]: delivery states and the retry schedule.
//! - [`templates`]: push, email, reminder, escalation and digest texts in Vietnamese and English.

pub mod broadcasts;
pub mod deliveries;
pub mod notices;
pub mod preferences;
pub mod templates;

pub use notices::*;

//! Pure rules and types. Nothing here touches the database, HTTP, PDFs or templates
//! (the layering test in `src/tests/layering.rs` keeps it so); most unit tests live here.

/// An enum stored, sent and read as one fixed word per variant: it gets `as_str`,
/// `ALL`, `Display`, and a `FromStr` that refuses any other word with a field error.
///
/// ```ignore
/// text_enum! {
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Stage { Screening = "screening", AfterConsent = "after_consent" }
///     else "unknown_stage", "Stage must be screening or after_consent."
/// }
/// ```
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
        else $code:literal, $message:literal
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The word this variant is stored and sent as.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::fields::FieldError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::fields::FieldError::new($code, $message)),
                }
            }
        }
    };
}

pub mod audit;
pub mod consent;
pub mod fields;
pub mod focus_group;
pub mod mail;
pub mod participant;
pub mod policy;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod user;

pub use fields::FieldErrors;

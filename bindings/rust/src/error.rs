//! Errors: `rw_errc` as [`Errc`], with the library's message (`rw_last_error`).
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use crate::sys;

macro_rules! errc {
    ($($(#[$doc:meta])* $name:ident = $value:literal),* $(,)?) => {
        /// `ringwire::errc` one to one (`rw_errc`), plus the C API's own two codes; a value
        /// this crate does not know (a newer library) is `Other`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Errc {
            $($(#[$doc])* $name,)*
            /// A code this crate does not know.
            Other(i32),
        }

        impl Errc {
            /// The C value.
            pub fn code(self) -> i32 {
                match self {
                    $(Errc::$name => $value,)*
                    Errc::Other(v) => v,
                }
            }
            /// From the C value (never fails: unknown values are `Other`).
            pub fn from_code(v: i32) -> Errc {
                match v {
                    $($value => Errc::$name,)*
                    v => Errc::Other(v),
                }
            }
        }
    };
}

errc! {
    InvalidCapacity = 1,
    CapacityTooLarge = 2,
    AlreadySplit = 3,
    InvalidOptions = 4,
    TooManySubscribers = 5,
    InvalidTopic = 6,
    PublisherExists = 7,
    TypeMismatch = 8,
    TopicConflict = 9,
    TooManyProducers = 10,
    ShmExists = 11,
    ShmNotFound = 12,
    ShmPermissionDenied = 13,
    ShmNotRingwire = 14,
    ShmVersionMismatch = 15,
    ShmKindMismatch = 16,
    ShmTypeMismatch = 17,
    ShmCapacityMismatch = 18,
    ShmTruncated = 19,
    ShmInitialising = 20,
    ShmCorrupt = 21,
    ShmAlreadyAttached = 22,
    ShmSystemError = 23,
    MessageTooLarge = 24,
    InvalidMessageType = 25,
    RingCorrupt = 26,
    ShmNotASegment = 27,
    ShmUntrustedOwner = 28,
    InvalidCpu = 29,
    InvalidNumaNode = 30,
    HugepagesUnavailable = 31,
    MemoryLockDenied = 32,
    /// A NULL handle or pointer, a name with a NUL byte, a count out of range (also raised
    /// by this crate before calling C).
    InvalidArgument = 1000,
    /// Anything else the library threw, or a status the crate did not expect.
    Internal = 1001,
}

/// A failure: the code and the library's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: Errc,
    message: String,
}

impl Error {
    pub fn new(code: Errc, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// The calling thread's last C error (`rw_last_errc`, `rw_last_error`): call right after
    /// the failing C call, on the same thread.
    pub(crate) fn last(call: &str) -> Error {
        // SAFETY: plain calls; the message is a NUL-terminated thread-local string that
        // stays valid until the next failing call on this thread: copied at once.
        let (code, msg) = unsafe {
            let code = sys::rw_last_errc();
            let p = sys::rw_last_error();
            let msg = if p.is_null() { String::new() } else { CStr::from_ptr(p).to_string_lossy().into_owned() };
            (code, msg)
        };
        if code == sys::RW_E_NONE {
            return Error::new(Errc::Internal, format!("{}: failed without an error code", call));
        }
        Error { code: Errc::from_code(code), message: if msg.is_empty() { call.to_string() } else { msg } }
    }

    /// A status a call is not documented to return.
    pub(crate) fn unexpected(call: &str, status: c_int) -> Error {
        Error::new(Errc::Internal, format!("{}: unexpected status {} ({})", call, status, status_name(status)))
    }

    pub fn code(&self) -> Errc {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

/// `Result<T, ringwire::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// The library's name for a status value (`rw_status_name`).
pub fn status_name(s: c_int) -> String {
    // SAFETY: rw_status_name returns a static string for any value.
    unsafe {
        let p = sys::rw_status_name(s);
        if p.is_null() {
            return format!("status {}", s);
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

//! Countersign: knows which code an AI assistant wrote, flags the risky parts, and binds senior
//! sign-offs to the exact code. The language server and the CLI share this library.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod document;
pub mod lsp;
pub mod policy;
pub mod provenance;
pub mod signoff;
pub mod workspace;

//! Hearth: a self-hosted chat appliance — one binary, one SQLite file.

pub mod blobs;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod files;
pub mod fragments;
pub mod hub;
pub mod import;
pub mod mail;
pub mod media;
pub mod net;
pub mod notify;
pub mod ops;
pub mod render;
pub mod search;
pub mod store;
pub mod web;

pub use error::{Error, Result};

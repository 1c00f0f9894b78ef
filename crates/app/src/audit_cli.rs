//! `app audit verify [--checkpoint FILE]` and `app audit checkpoint [--out FILE]` (PRODUCT.md
//! section 11): offline verification of every audit chain, and checkpoint files to keep
//! outside the database.
//!
//! A checkpoint file is `{createdAt, chains: [{chainKey, length, head}], root}`; `root` is the
//! SHA-256 (hex) over the lines `chainKey length head\n` of the chains sorted by chain key
//! (`pas_domain::audit::Checkpoint`). Verification reads the chains 100 at a time, each
//! batch in one snapshot with three queries (`Db::stored_chains`), checks each chain with
//! `pas_domain::audit::verify_chain` against its stored head, and, given a
//! checkpoint, that each chain of the file still has at least its length and the same hash
//! at that position.

use std::io::IsTerminal;
use std::path::PathBuf;

use pas_domain::audit::{Checkpoint, CheckpointChain, checkpoint_root, verify_chain};
use pas_domain::ports::AuditStore;
use pas_persistence::Db;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// Usage of the `audit` subcommands.
pub const USAGE: &str = "  audit verify [--checkpoint FILE]   verify every audit chain (exit 1 on a break)\n  audit checkpoint [--out FILE]      write a checkpoint of every chain (stdout without --out)";

/// An `app audit …` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCommand {
    /// `audit verify [--checkpoint FILE]`.
    Verify {
        /// A checkpoint file written earlier.
        checkpoint: Option<PathBuf>,
    },
    /// `audit checkpoint [--out FILE]`.
    Checkpoint {
        /// Where to write it; stdout when `None`.
        out: Option<PathBuf>,
    },
}

impl AuditCommand {
    /// The command of the arguments after `audit`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let option = |name: &str| -> Result<Option<PathBuf>, String> {
            match &args[1..] {
                [] => Ok(None),
                [flag, value] if flag == name => Ok(Some(PathBuf::from(value))),
                _ => Err(format!("usage:\n{USAGE}")),
            }
        };
        match args.first().map(String::as_str) {
            Some("verify") => Ok(Self::Verify {
                checkpoint: option("--checkpoint")?,
            }),
            Some("checkpoint") => Ok(Self::Checkpoint {
                out: option("--out")?,
            }),
            _ => Err(format!("usage:\n{USAGE}")),
        }
    }
}

/// A checkpoint file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointFile {
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
    chains: Vec<ChainLine>,
    root: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChainLine {
    chain_key: String,
    length: i64,
    head: String,
}

impl From<Checkpoint> for CheckpointFile {
    fn from(c: Checkpoint) -> Self {
        Self {
            created_at: c.created_at,
            chains: c
                .chains
                .into_iter()
                .map(|c| ChainLine {
                    chain_key: c.chain_key,
                    length: c.length,
                    head: c.head,
                })
                .collect(),
            root: c.root,
        }
    }
}

impl CheckpointFile {
    fn read(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the checkpoint {}: {e}", path.display()))?;
        let file: Self = serde_json::from_str(&text)
            .map_err(|e| format!("the checkpoint {} is not valid: {e}", path.display()))?;
        let mut chains: Vec<CheckpointChain> = file
            .chains
            .iter()
            .map(|c| CheckpointChain {
                chain_key: c.chain_key.clone(),
                length: c.length,
                head: c.head.clone(),
            })
            .collect();
        chains.sort_by(|a, b| a.chain_key.cmp(&b.chain_key));
        if checkpoint_root(&chains) != file.root {
            return Err(format!(
                "the checkpoint {} does not match its root: the file was altered",
                path.display()
            ));
        }
        Ok(file)
    }
}

/// Runs `command` on the database of `config`. `Ok(true)`: everything holds; `Ok(false)`: a
/// break was found and reported on stdout.
pub async fn run(config: &Config, command: &AuditCommand) -> Result<bool, String> {
    let db = crate::open_audited_database(config)
        .await
        .map_err(|e| e.to_string())?;
    match command {
        AuditCommand::Verify { checkpoint } => verify(&db, checkpoint.as_deref()).await,
        AuditCommand::Checkpoint { out } => {
            write_checkpoint(&db, out.as_deref()).await?;
            Ok(true)
        }
    }
}

async fn write_checkpoint(db: &Db, out: Option<&std::path::Path>) -> Result<(), String> {
    let chains = db.chain_heads().await.map_err(|e| e.to_string())?;
    let checkpoint = Checkpoint::of(time::OffsetDateTime::now_utc(), chains);
    let (count, root) = (checkpoint.chains.len(), checkpoint.root.clone());
    let json = serde_json::to_string_pretty(&CheckpointFile::from(checkpoint))
        .map_err(|e| e.to_string())?;
    match out {
        Some(path) => {
            std::fs::write(path, format!("{json}\n"))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "checkpoint of {count} chains written to {} (root {root})",
                path.display()
            );
        }
        None => println!("{json}"),
    }
    Ok(())
}

/// Progress: a bar on a terminal, a line every `PLAIN_EVERY` chains otherwise.
enum Progress {
    Bar(indicatif::ProgressBar),
    Plain { total: usize, done: usize },
}

const PLAIN_EVERY: usize = 1000;

impl Progress {
    fn new(total: usize) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} chains, {msg} ({eta} left)",
            ) {
                bar.set_style(style);
            }
            Self::Bar(bar)
        } else {
            Self::Plain { total, done: 0 }
        }
    }

    /// One chain done; `events` verified so far.
    fn tick(&mut self, events: usize) {
        match self {
            Self::Bar(bar) => {
                bar.inc(1);
                bar.set_message(format!("{events} events"));
            }
            Self::Plain { total, done } => {
                *done += 1;
                if *done % PLAIN_EVERY == 0 {
                    eprintln!("verified {done} of {total} chains, {events} events");
                }
            }
        }
    }

    /// A line that must not be torn by the bar.
    fn say(&self, line: &str) {
        match self {
            Self::Bar(bar) => bar.suspend(|| println!("{line}")),
            Self::Plain { .. } => println!("{line}"),
        }
    }

    fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The chain's name in reports: the process id, or what the nil key means.
fn chain_name(key: &str) -> String {
    if key == uuid::Uuid::nil().to_string() {
        format!("{key} (events without a process)")
    } else {
        format!("{key} (process {key})")
    }
}

/// Chains read per query batch: each batch is one snapshot and three queries, so the round
/// trips per chain vanish while memory stays bounded by the batch.
const VERIFY_BATCH: usize = 100;

/// Checks one stored chain, against its line of the checkpoint when there is one; reports
/// each problem and answers whether the chain is broken.
fn check_chain(
    keys: &pas_domain::audit::AuditKeys,
    key: &str,
    stored: &pas_persistence::StoredChain,
    line: Option<&ChainLine>,
    progress: &Progress,
) -> bool {
    let mut problems = Vec::new();
    if let Some(b) = verify_chain(
        keys,
        &stored.rows,
        stored.head.as_ref(),
        stored.process_exists,
    ) {
        problems.push(format!("at position {}: {}", b.position, b.kind));
    }
    if let Some(line) = line {
        let length = usize::try_from(line.length).unwrap_or(0);
        if stored.rows.len() < length {
            problems.push(format!(
                "at position {}: shorter than the checkpoint ({} events, the checkpoint has {length})",
                stored.rows.len(),
                stored.rows.len()
            ));
        } else if length > 0 && stored.rows[length - 1].hash != line.head {
            problems.push(format!(
                "at position {}: differs from the checkpoint (rewritten after it)",
                length - 1
            ));
        }
    }
    for p in &problems {
        progress.say(&format!("BROKEN chain {} {p}", chain_name(key)));
    }
    !problems.is_empty()
}

async fn verify(db: &Db, checkpoint: Option<&std::path::Path>) -> Result<bool, String> {
    let keys = db
        .audit_keys()
        .cloned()
        .ok_or("no audit keys are configured")?;
    let checkpoint = checkpoint.map(CheckpointFile::read).transpose()?;
    let mut chain_keys = db.all_chain_keys().await.map_err(|e| e.to_string())?;
    if let Some(file) = &checkpoint {
        chain_keys.extend(file.chains.iter().map(|c| c.chain_key.clone()));
        chain_keys.sort();
        chain_keys.dedup();
    }
    let expected: std::collections::HashMap<&str, &ChainLine> = checkpoint
        .iter()
        .flat_map(|f| f.chains.iter().map(|c| (c.chain_key.as_str(), c)))
        .collect();
    let mut progress = Progress::new(chain_keys.len());
    let (mut events, mut broken) = (0_usize, 0_usize);
    for batch in chain_keys.chunks(VERIFY_BATCH) {
        let chains = db.stored_chains(batch).await.map_err(|e| e.to_string())?;
        for (key, stored) in batch.iter().zip(chains) {
            if check_chain(
                &keys,
                key,
                &stored,
                expected.get(key.as_str()).copied(),
                &progress,
            ) {
                broken += 1;
            }
            events += stored.rows.len();
            progress.tick(events);
        }
    }
    progress.finish();
    let against = match &checkpoint {
        Some(f) => format!(
            ", checked against the checkpoint of {} ({} chains)",
            f.created_at,
            f.chains.len()
        ),
        None => String::new(),
    };
    if broken == 0 {
        println!(
            "OK: {} chains, {events} events verified{against}",
            chain_keys.len()
        );
    } else {
        println!(
            "FAILED: {broken} of {} chains broken, {events} events read{against}",
            chain_keys.len()
        );
    }
    Ok(broken == 0)
}

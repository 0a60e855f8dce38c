//! Errors of letter typesetting.
//!
//! Policy: every failure is returned as a [`LetterError`]; nothing here panics
//! on input. Template problems carry the template line they come from, so an
//! office editing its own template sees where to look.

use std::fmt;

/// Why a letter or a batch could not be typeset.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// The template did not compile with the letter data. Holds every error
    /// typst reported, each with its line in the template when known.
    #[error("{}", describe(.0))]
    Template(Vec<TemplateProblem>),
    /// The finished document could not be written as PDF.
    #[error("the letters could not be written as PDF: {0}")]
    Pdf(String),
    /// A letter has nothing to print in its address block.
    #[error("letter {number} has no recipient")]
    NoRecipient {
        /// The letter's position in the batch, counting from 1.
        number: usize,
    },
    /// A batch with neither letters nor a mailing list.
    #[error("the batch has no letters")]
    EmptyBatch,
    /// The typst engine could not be set up with the letter data.
    #[error("typst could not be set up: {0}")]
    Engine(String),
    /// The letter data could not be encoded for the template.
    #[error("the letter data could not be encoded: {0}")]
    Data(#[from] serde_json::Error),
}

/// One problem typst found while typesetting with a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// Line in the template, counting from 1, when the problem has one.
    pub line: Option<usize>,
    /// Column in that line, counting from 1, when the problem has one.
    pub column: Option<usize>,
    /// What went wrong, as typst says it.
    pub message: String,
    /// Typst's suggestions for fixing it.
    pub hints: Vec<String>,
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        f.write_str(&self.message)?;
        for hint in &self.hints {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

fn describe(problems: &[TemplateProblem]) -> String {
    match problems {
        [] => "the letter template failed".to_owned(),
        [one] => format!("letter template error at {one}"),
        [first, rest @ ..] => format!("letter template error at {first} (and {} more)", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_line_and_counts_the_rest() {
        let problem = TemplateProblem {
            line: Some(12),
            column: Some(3),
            message: "unknown variable: foo".to_owned(),
            hints: vec!["check the spelling".to_owned()],
        };
        let error = LetterError::Template(vec![problem.clone(), problem]);
        assert_eq!(
            error.to_string(),
            "letter template error at line 12, column 3: unknown variable: foo \
             (hint: check the spelling) (and 1 more)"
        );
    }
}

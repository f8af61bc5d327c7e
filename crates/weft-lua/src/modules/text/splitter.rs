//! `text.splitter.recursive(options?)` / `.markdown(options?)` and the Splitter object,
//! on `text-splitter`: chunks of at most `chunk_size` characters, neighbours sharing up
//! to `chunk_overlap` characters, cut at the highest semantic level that fits.
//!
//! The recursive splitter cuts at runs of newlines first (longest first), then sentences,
//! words, graphemes and characters; the Markdown splitter at headings, blocks (code
//! blocks, tables, lists) and inline elements first, then the same levels. Where Wippy's
//! splitters (langchaingo) cut at a list of `separators`, these levels stand in: the
//! option is checked but not used, nor are the Markdown flags, whose structure the
//! Markdown splitter always keeps. `keep_separator` keeps the whitespace around chunks
//! (by default chunks are trimmed).
//!
//! The library's time grows with the square of the text (it looks over the rest of the
//! text for each chunk), so a text is given to it a window at a time: [`WINDOW_CHUNKS`]
//! chunks' worth of characters (at least [`MIN_WINDOW`]), the window's last chunk made
//! again from the start of the next. Time then grows linearly, and the chunks are those
//! of the whole text.

use mlua::{BorrowedStr, Lua, MultiValue, Table, UserData, UserDataMethods, Value as LuaValue};
use text_splitter::{ChunkConfig, MarkdownSplitter, TextSplitter};
use weft_core::Error;

use crate::modules::args;

/// `chunk_size` when none is given.
const DEFAULT_CHUNK_SIZE: i64 = 4000;

/// `chunk_overlap` when none is given (at most half the chunk size).
const DEFAULT_OVERLAP: i64 = 200;

/// How many chunks' worth of characters the library is given at a time.
const WINDOW_CHUNKS: usize = 32;

/// The fewest characters the library is given at a time.
const MIN_WINDOW: usize = 64 << 10;

/// A configured splitter.
struct Splitter {
    /// The library's splitter.
    kind: Kind,
    /// How many characters it gets at a time.
    window: usize,
}

/// The library's splitter.
enum Kind {
    /// Plain text.
    Text(TextSplitter<text_splitter::Characters>),
    /// Markdown.
    Markdown(MarkdownSplitter<text_splitter::Characters>),
}

/// Builds the `text.splitter` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for markdown in [false, true] {
        let name = if markdown { "markdown" } else { "recursive" };
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                args::reply(lua, new(args, markdown), |s| {
                    lua.create_userdata(s).map(LuaValue::UserData)
                })
            })?,
        )?;
    }
    Ok(t)
}

/// `recursive(options?)` / `markdown(options?)`: Invalid for an option of the wrong type,
/// a size below 1 or an overlap not smaller than the size.
fn new(args: MultiValue, markdown: bool) -> Result<Splitter, Error> {
    let func = if markdown {
        "text.splitter.markdown"
    } else {
        "text.splitter.recursive"
    };
    let args = args::at_most(func, args, 1)?;
    let opts = args::options(func, &args[0])?;
    let opts = opts.as_ref();
    let size = args::int_field(func, opts, "chunk_size", 1..=i64::from(u32::MAX))?
        .unwrap_or(DEFAULT_CHUNK_SIZE);
    let overlap = args::int_field(func, opts, "chunk_overlap", 0..=i64::from(u32::MAX))?
        .unwrap_or(DEFAULT_OVERLAP.min(size / 2));
    args::strings_field(func, opts, "separators")?;
    let keep = if markdown {
        for flag in [
            "code_blocks",
            "reference_links",
            "heading_hierarchy",
            "join_table_rows",
        ] {
            args::bool_field(func, opts, flag)?;
        }
        false
    } else {
        args::bool_field(func, opts, "keep_separator")?.unwrap_or(false)
    };
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let config = ChunkConfig::new(size)
        .with_overlap(usize::try_from(overlap).unwrap_or(usize::MAX))
        .map_err(|_| {
            Error::invalid(format!(
                "{func}: chunk_overlap ({overlap}) must be smaller than chunk_size ({size})"
            ))
        })?
        .with_trim(!keep);
    let kind = if markdown {
        Kind::Markdown(MarkdownSplitter::new(config))
    } else {
        Kind::Text(TextSplitter::new(config))
    };
    let window = size.saturating_mul(WINDOW_CHUNKS).max(MIN_WINDOW);
    Ok(Splitter { kind, window })
}

impl UserData for Splitter {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("split_text", |lua, this, args: MultiValue| {
            const FUNC: &str = "text.Splitter:split_text";
            let text = args::at_most(FUNC, args, 1).and_then(|a| args::text(FUNC, "text", &a[0]));
            args::reply(lua, text, |text| {
                let list = lua.create_table()?;
                this.push_chunks(&text, |chunk| list.raw_push(chunk))?;
                Ok(LuaValue::Table(list))
            })
        });
        m.add_method("split_batch", |lua, this, args: MultiValue| {
            args::reply(lua, pages(args), |pages| {
                let out = lua.create_table()?;
                for (content, metadata) in pages {
                    this.push_chunks(&content, |chunk| {
                        let entry = lua.create_table()?;
                        entry.set("content", chunk)?;
                        match &metadata {
                            Some(t) => entry.set("metadata", t)?,
                            None => entry.set("metadata", lua.create_table()?)?,
                        }
                        out.raw_push(entry)
                    })?;
                }
                Ok(LuaValue::Table(out))
            })
        });
    }
}

impl Splitter {
    /// Calls `push` with each chunk of `text`, a window at a time.
    fn push_chunks(
        &self,
        text: &str,
        mut push: impl FnMut(&str) -> mlua::Result<()>,
    ) -> mlua::Result<()> {
        let mut start = 0;
        while start < text.len() {
            let rest = &text[start..];
            let end = rest
                .char_indices()
                .nth(self.window)
                .map_or(rest.len(), |(i, _)| i);
            let chunks: Vec<(usize, &str)> = match &self.kind {
                Kind::Text(s) => s.chunk_indices(&rest[..end]).collect(),
                Kind::Markdown(s) => s.chunk_indices(&rest[..end]).collect(),
            };
            // The window's last chunk may end where the window does rather than where the
            // text would have it end: the next window starts with it.
            let next = match chunks.last() {
                Some(&(at, _)) if end < rest.len() && at > 0 => Some(at),
                _ => None,
            };
            let done = chunks.len() - usize::from(next.is_some());
            for (_, chunk) in &chunks[..done] {
                push(chunk)?;
            }
            start += next.unwrap_or(end);
        }
        Ok(())
    }
}

/// The pages of `splitter:split_batch(pages)`: each a table with a string `content` and
/// an optional `metadata` table. Each page's chunks become `{content, metadata}`, the
/// page's metadata table shared by its chunks (a new empty table when it has none); a
/// page with empty content gives no chunks.
fn pages(args: MultiValue) -> Result<Vec<(BorrowedStr, Option<Table>)>, Error> {
    const FUNC: &str = "text.Splitter:split_batch";
    let args = args::at_most(FUNC, args, 1)?;
    let list = args::table(FUNC, "pages", &args[0])?;
    let mut pages = Vec::new();
    for (i, page) in list.sequence_values::<LuaValue>().enumerate() {
        let name = format!("pages[{}]", i + 1);
        let page = page.map_err(|e| Error::invalid(format!("{FUNC}: {name}: {e}")))?;
        let page = args::table(FUNC, &name, &page)?;
        let content = args::field(FUNC, Some(&page), "content")?;
        let content = args::text(FUNC, &format!("{name}.content"), &content)?;
        let metadata = match args::field(FUNC, Some(&page), "metadata")? {
            LuaValue::Nil => None,
            LuaValue::Table(t) => Some(t),
            other => {
                let name = format!("{name}.metadata");
                return Err(args::expected(FUNC, &name, "a table", &other));
            }
        };
        pages.push((content, metadata));
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks of `text` through windows of `size * 8` characters, and the library's
    /// chunks of the whole text.
    fn both(markdown: bool, size: usize, overlap: usize, text: &str) -> (Vec<String>, Vec<String>) {
        let config = || ChunkConfig::new(size).with_overlap(overlap).unwrap();
        let (kind, whole): (Kind, Vec<String>) = if markdown {
            let whole = MarkdownSplitter::new(config())
                .chunks(text)
                .map(String::from)
                .collect();
            (Kind::Markdown(MarkdownSplitter::new(config())), whole)
        } else {
            let whole = TextSplitter::new(config())
                .chunks(text)
                .map(String::from)
                .collect();
            (Kind::Text(TextSplitter::new(config())), whole)
        };
        let splitter = Splitter {
            kind,
            window: size * 8,
        };
        let mut windowed = Vec::new();
        splitter
            .push_chunks(text, |c| {
                windowed.push(c.to_string());
                Ok(())
            })
            .unwrap();
        (windowed, whole)
    }

    #[test]
    fn windows_give_the_chunks_of_the_whole_text() {
        let words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(400);
        let lines = "Één regel tekst met wat woorden erin.\n".repeat(300)
            + &"Nieuwe alinea hier.\n\n".repeat(200);
        let markdown =
            "# Kop\n\nTekst van de alinea, met *nadruk*.\n\n```\ncode();\n```\n\n".repeat(150);
        for (md, text) in [(false, &words), (false, &lines), (true, &markdown)] {
            for (size, overlap) in [(100, 0), (100, 30), (37, 5)] {
                let (windowed, whole) = both(md, size, overlap, text);
                assert!(whole.len() > 20, "{size}: {}", whole.len());
                assert_eq!(
                    windowed, whole,
                    "markdown {md}, size {size}, overlap {overlap}"
                );
            }
        }
    }
}

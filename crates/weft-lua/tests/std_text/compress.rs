//! `compress`: the five formats against other implementations' bytes, zstd
//! dictionaries, decompression bombs and 100 MB inputs.

use std::io::Read as _;

use weft_core::Value;

use crate::{check, run};

/// `data` (the vectors' input) and its encodings by Python's `gzip`, `zlib` and `brotli`
/// and the `zstd` command line (level 3).
const VECTORS: &str = r##"
local data = "Hello, weft! Hello, weft! Hello, weft!\n"
local vectors = {
  gzip = "1f8b0800000000000003f348cdc9c9d751284f4d2b5154f0c0c5e102000452edb827000000",
  zlib = "789cf348cdc9c9d751284f4d2b5154f0c0c5e1020003010c90",
  deflate = "f348cdc9c9d751284f4d2b5154f0c0c5e10200",
  brotli = "1b260000c429e70995471049017d7b29c24f359f646de6772702",
  zstd = "28b52ffd0458a500007048656c6c6f2c207765667421200a0100b0cc2f41aad21f",
}
local codecs = {"gzip", "deflate", "zlib", "brotli", "zstd"}
"##;

#[tokio::test]
async fn compress_reads_and_writes_what_other_implementations_do() {
    let body = VECTORS.to_string()
        + r##"
        local compress = require("compress")
        local out = {}
        for _, name in ipairs(codecs) do
          local c = compress[name]
          out[name .. "_decode"] = try(c.decode, unhex(vectors[name]))
          local enc = c.encode(data)
          out[name .. "_round_trip"] = try(c.decode, enc)
          local binary = {}
          for i = 0, 255 do binary[#binary + 1] = string.char(i) end
          binary = string.rep(table.concat(binary), 4)
          out[name .. "_binary"] = tostring(c.decode(c.encode(binary)) == binary)
          out[name .. "_garbage"] = try(c.decode, "invalid data")
          out[name .. "_truncated"] = try(c.decode, unhex(vectors[name]):sub(1, -6))
          out[name .. "_empty"] = try(c.encode, "")
          out[name .. "_empty_decode"] = try(c.decode, "")
          out[name .. "_number"] = try(c.encode, 42)
          out[name .. "_nil"] = try(c.decode)
          out[name .. "_extra"] = try(c.encode, "x", {}, 1)
          out[name .. "_options"] = try(c.decode, "x", "fast")
          local big = c.encode(string.rep("data", 1000))
          out[name .. "_max_size"] = try(c.decode, big, {max_size = 1024})
          out[name .. "_max_size_ok"] = #c.decode(big, {max_size = 4000})
          out[name .. "_max_zero"] = try(c.decode, big, {max_size = 0})
          out[name .. "_max_huge"] = try(c.decode, big, {max_size = 2 * 1024 * 1024 * 1024})
        end
        -- What the encoders write, checked by its parts: gzip's header and trailer
        -- (CRC-32 b8ed5204 and size 39, little-endian), zlib's header and Adler-32.
        local gz = hex(compress.gzip.encode(data))
        out.gzip_frame = gz:sub(1, 6) .. " " .. gz:sub(-16)
        local zl = hex(compress.zlib.encode(data))
        out.zlib_frame = zl:sub(1, 4) .. " " .. zl:sub(-8)
        out.zlib_is_deflate = tostring(zl:sub(5, -9) == hex(compress.deflate.encode(data)))
        -- Brotli writes what the reference encoder writes.
        out.brotli_encode = hex(compress.brotli.encode(data))
        out.brotli_q11 = hex(compress.brotli.encode(data, {level = 11}))
        out.zstd_encode = compress.zstd.encode(data)
        out.multi_gzip = compress.gzip.decode(unhex(
          "1f8b08000000000002034b4c4a0600c2412435030000001f8b08000000000002034b494d03" ..
          "0061e1c40c03000000"))
        -- Levels.
        out.levels_ok = tostring(compress.gzip.encode(data, {level = 1}) ~= nil and
          compress.zlib.encode(data, {level = 9}) ~= nil and
          compress.brotli.encode(data, {level = 0}) ~= nil and
          compress.zstd.encode(data, {level = 22}) ~= nil and
          compress.deflate.encode(data, {level = 9.0}) ~= nil)
        out.gzip_level0 = try(compress.gzip.encode, data, {level = 0})
        out.deflate_level10 = try(compress.deflate.encode, data, {level = 10})
        out.zlib_level_float = try(compress.zlib.encode, data, {level = 6.5})
        out.brotli_level12 = try(compress.brotli.encode, data, {level = 12})
        out.zstd_level_text = try(compress.zstd.encode, data, {level = "max"})
        -- A corrupt checksum.
        local bad = unhex(vectors.gzip)
        bad = bad:sub(1, -9) .. "\0\0\0\0" .. bad:sub(-4)
        out.gzip_crc = try(compress.gzip.decode, bad)
        return out
        "##;
    let out = run("compress", "", &body, vec![]).await;
    let data = "Hello, weft! Hello, weft! Hello, weft!\n";
    // What the zstd encoder writes, read by another implementation (ruzstd).
    let frame = out.get("zstd_encode").and_then(Value::as_bytes).unwrap();
    let mut decoded = String::new();
    ruzstd::decoding::StreamingDecoder::new(frame)
        .unwrap()
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(decoded, data);
    for name in ["gzip", "deflate", "zlib", "brotli", "zstd"] {
        let at = |k: &str| format!("{name}_{k}");
        check(
            &out,
            &[
                (&at("decode"), data),
                (&at("round_trip"), data),
                (&at("binary"), "true"),
                (
                    &at("garbage"),
                    &format!("ERR Invalid false compress.{name}.decode: invalid {name} data: …"),
                ),
                (
                    &at("truncated"),
                    &format!("ERR Invalid false compress.{name}.decode: invalid {name} data: …"),
                ),
                (
                    &at("empty"),
                    &format!("ERR Invalid false compress.{name}.encode: data is empty"),
                ),
                (
                    &at("empty_decode"),
                    &format!("ERR Invalid false compress.{name}.decode: data is empty"),
                ),
                (
                    &at("number"),
                    &format!(
                        "ERR Invalid false compress.{name}.encode: data must be a string, got \
                         integer"
                    ),
                ),
                (
                    &at("nil"),
                    &format!(
                        "ERR Invalid false compress.{name}.decode: data must be a string, got nil"
                    ),
                ),
                (
                    &at("extra"),
                    &format!(
                        "ERR Invalid false compress.{name}.encode takes at most 2 arguments, got 3"
                    ),
                ),
                (
                    &at("options"),
                    &format!(
                        "ERR Invalid false compress.{name}.decode: options must be a table, got \
                         string"
                    ),
                ),
                (
                    &at("max_size"),
                    &format!(
                        "ERR Internal false compress.{name}.decode: decompressed data is larger \
                         than max_size (1024 bytes)"
                    ),
                ),
                (&at("max_size_ok"), "4000"),
                (
                    &at("max_zero"),
                    &format!(
                        "ERR Invalid false compress.{name}.decode: max_size must be between 1 \
                         and 1073741824, got 0"
                    ),
                ),
                (
                    &at("max_huge"),
                    &format!(
                        "ERR Invalid false compress.{name}.decode: max_size must be between 1 \
                         and 1073741824, got 2147483648"
                    ),
                ),
            ],
        );
    }
    check(
        &out,
        &[
            ("gzip_frame", "1f8b08 0452edb827000000"),
            ("zlib_frame", "789c 03010c90"),
            ("zlib_is_deflate", "true"),
            (
                "brotli_encode",
                "1b260000c429e70995471049017d7b29c24f359f646de6772702",
            ),
            (
                "brotli_q11",
                "1b2600f81d09762ce4171a576a582b8020954916b3bb0e617ba3538a10150d7cadf11b01",
            ),
            ("multi_gzip", "abcdef"),
            ("levels_ok", "true"),
            (
                "gzip_level0",
                "ERR Invalid false compress.gzip.encode: level must be between 1 and 9, got 0",
            ),
            (
                "deflate_level10",
                "ERR Invalid false compress.deflate.encode: level must be between 1 and 9, got 10",
            ),
            (
                "zlib_level_float",
                "ERR Invalid false compress.zlib.encode: level must be an integer, got number",
            ),
            (
                "brotli_level12",
                "ERR Invalid false compress.brotli.encode: level must be between 0 and 11, got 12",
            ),
            (
                "zstd_level_text",
                "ERR Invalid false compress.zstd.encode: level must be an integer, got string",
            ),
            (
                "gzip_crc",
                "ERR Invalid false compress.gzip.decode: invalid gzip data: …",
            ),
        ],
    );
}

#[tokio::test]
async fn zstd_dictionaries_train_inspect_and_must_match() {
    let out = run(
        "compress",
        "",
        r##"
        local zstd = require("compress").zstd
        local out = {}
        local samples = {}
        for i = 1, 50 do
          samples[i] = string.format(
            '{"event":"click","user_id":%d,"session":"abc-%d","ts":17000000%02d}', i, i, i)
        end
        local dict = zstd.train_dict(samples, {id = 4242})
        local info = zstd.inspect_dict(dict)
        out.info = info.id .. " " .. tostring(info.content_size > 0 and
          info.content_size < #dict)
        out.auto_id = tostring(zstd.inspect_dict(zstd.train_dict(samples)).id ~= 0)
        local payload = '{"event":"click","user_id":4242,"session":"abc-4242","ts":1700000999}'
        local with = zstd.encode(payload, {dict = dict, level = 5})
        out.round_trip = tostring(zstd.decode(with, {dict = dict}) == payload)
        out.smaller = tostring(#with < #zstd.encode(payload))
        out.missing = try(zstd.decode, with)
        local other = zstd.train_dict(samples, {id = 7})
        out.wrong = try(zstd.decode, with, {dict = other})
        -- Bad input.
        out.samples_string = try(zstd.train_dict, "samples")
        out.samples_empty = try(zstd.train_dict, {})
        out.sample_number = try(zstd.train_dict, {"abcdefghij", 5})
        out.sample_empty = try(zstd.train_dict, {"abcdefghij", ""})
        out.samples_short = try(zstd.train_dict, {"short", "tiny"})
        out.size_small = try(zstd.train_dict, samples, {size = 100})
        out.id_big = try(zstd.train_dict, samples, {id = 4294967296})
        out.level_big = try(zstd.train_dict, samples, {level = 23})
        out.too_few = try(zstd.train_dict, {"abcdefgh"})
        out.dict_number = try(zstd.encode, payload, {dict = 5})
        out.dict_empty = try(zstd.decode, with, {dict = ""})
        out.inspect_number = try(zstd.inspect_dict, 5)
        out.inspect_empty = try(zstd.inspect_dict, "")
        out.inspect_garbage = try(zstd.inspect_dict, "not a dictionary at all")
        out.inspect_extra = try(zstd.inspect_dict, dict, dict)
        return out
        "##,
        vec![],
    )
    .await;
    check(
        &out,
        &[
            ("info", "4242 true"),
            ("auto_id", "true"),
            ("round_trip", "true"),
            ("smaller", "true"),
            (
                "missing",
                "ERR Internal false compress.zstd.decode: the data was compressed with \
                 dictionary 4242, and no matching dictionary was given",
            ),
            (
                "wrong",
                "ERR Internal false compress.zstd.decode: the data was compressed with \
                 dictionary 4242, not with the given dictionary 7",
            ),
            (
                "samples_string",
                "ERR Invalid false compress.zstd.train_dict: samples must be a table, got string",
            ),
            (
                "samples_empty",
                "ERR Invalid false compress.zstd.train_dict: samples is empty",
            ),
            (
                "sample_number",
                "ERR Invalid false compress.zstd.train_dict: samples[2] must be a string, got \
                 integer",
            ),
            (
                "sample_empty",
                "ERR Invalid false compress.zstd.train_dict: samples[2] is empty",
            ),
            (
                "samples_short",
                "ERR Invalid false compress.zstd.train_dict: at least one sample must be 8 \
                 bytes or longer",
            ),
            (
                "size_small",
                "ERR Invalid false compress.zstd.train_dict: size must be between 256 and \
                 1048576, got 100",
            ),
            (
                "id_big",
                "ERR Invalid false compress.zstd.train_dict: id must be between 0 and \
                 4294967295, got 4294967296",
            ),
            (
                "level_big",
                "ERR Invalid false compress.zstd.train_dict: level must be between 1 and 22, \
                 got 23",
            ),
            (
                "too_few",
                "ERR Internal false compress.zstd.train_dict: training failed: …",
            ),
            (
                "dict_number",
                "ERR Invalid false compress.zstd.encode: dict must be a non-empty string, got \
                 integer",
            ),
            (
                "dict_empty",
                "ERR Invalid false compress.zstd.decode: dict must be a non-empty string, got \
                 string",
            ),
            (
                "inspect_number",
                "ERR Invalid false compress.zstd.inspect_dict: dict must be a string, got \
                 integer",
            ),
            (
                "inspect_empty",
                "ERR Invalid false compress.zstd.inspect_dict: dict is empty",
            ),
            (
                "inspect_garbage",
                "ERR Invalid false compress.zstd.inspect_dict: invalid zstd dictionary: …",
            ),
            (
                "inspect_extra",
                "ERR Invalid false compress.zstd.inspect_dict takes at most 1 argument, got 2",
            ),
        ],
    );
}

/// 1 GiB of zeros compressed by Python's `brotli` (quality 5): 1,617 bytes, base64.
const BROTLI_BOMB: &str = include_str!("brotli_bomb.b64");

/// `len` zero bytes compressed by `write`'s encoder, fed a MiB at a time.
fn zeros<W: std::io::Write>(mut w: W, len: usize) -> W {
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..len / chunk.len() {
        w.write_all(&chunk).unwrap();
    }
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompression_bombs_stop_at_max_size() {
    use base64::Engine as _;
    let gib = 1 << 30;
    let gzip = zeros(
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()),
        gib,
    )
    .finish()
    .unwrap();
    let zstd = zeros(zstd::Encoder::new(Vec::new(), 3).unwrap(), gib)
        .finish()
        .unwrap();
    let brotli = base64::engine::general_purpose::STANDARD
        .decode(BROTLI_BOMB.trim())
        .unwrap();
    let small = zeros(
        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best()),
        8 << 20,
    )
    .finish()
    .unwrap();
    let out = run(
        "compress",
        "max_memory_mb: 512",
        r##"
        local gzip, zstd, brotli, small = ...
        local compress = require("compress")
        local out = {}
        out.sizes = #gzip < 8 * 1024 * 1024 and #zstd < 1024 * 1024 and #brotli < 4096
        out.gzip = try(compress.gzip.decode, gzip)
        out.zstd = try(compress.zstd.decode, zstd)
        out.brotli = try(compress.brotli.decode, brotli, {max_size = 64 * 1024 * 1024})
        out.small_capped = try(compress.zlib.decode, small, {max_size = 1024 * 1024})
        out.small_fits = #compress.zlib.decode(small, {max_size = 8 * 1024 * 1024})
        return out
        "##,
        vec![
            Value::bytes(gzip),
            Value::bytes(zstd),
            Value::bytes(brotli),
            Value::bytes(small),
        ],
    )
    .await;
    check(
        &out,
        &[
            ("sizes", "true"),
            (
                "gzip",
                "ERR Internal false compress.gzip.decode: decompressed data is larger than \
                 max_size (134217728 bytes)",
            ),
            (
                "zstd",
                "ERR Internal false compress.zstd.decode: decompressed data is larger than \
                 max_size (134217728 bytes)",
            ),
            (
                "brotli",
                "ERR Internal false compress.brotli.decode: decompressed data is larger than \
                 max_size (67108864 bytes)",
            ),
            (
                "small_capped",
                "ERR Internal false compress.zlib.decode: decompressed data is larger than \
                 max_size (1048576 bytes)",
            ),
            ("small_fits", "8388608"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_megabyte_inputs_compress_and_come_back() {
    let out = run(
        "compress, text, yaml",
        "max_memory_mb: 1024",
        r##"
        local compress, text, yaml = require("compress"), require("text"), require("yaml")
        local out = {}
        local big = string.rep("0123456789abcdef", 100 * 1024 * 1024 // 16)
        for _, name in ipairs({"gzip", "zstd", "brotli", "deflate", "zlib"}) do
          local enc, err = compress[name].encode(big, {level = 1})
          assert(enc, tostring(err))
          local dec, derr = compress[name].decode(enc)
          out[name] = #enc < #big // 100 and dec == big or tostring(derr)
        end
        local re = text.regexp.compile("f0")
        out.regexp = #re:find_all_string_index(big)
        local sp = text.splitter.recursive()
        local chunks = sp:split_text(big:sub(1, 10 * 1024 * 1024))
        local longest = 0
        for _, c in ipairs(chunks) do longest = math.max(longest, #c) end
        out.split = #chunks > 2600 and longest == 4000
        local doc = yaml.encode({big = big:sub(1, 10 * 1024 * 1024)})
        out.yaml = yaml.decode(doc).big == big:sub(1, 10 * 1024 * 1024)
        local d = text.diff.new()
        local _, err = d:compare(big, big)
        out.diff = err:kind()
        return out
        "##,
        vec![],
    )
    .await;
    check(
        &out,
        &[
            ("gzip", "true"),
            ("zstd", "true"),
            ("brotli", "true"),
            ("deflate", "true"),
            ("zlib", "true"),
            ("regexp", &((100 << 20) / 16 - 1).to_string()),
            ("split", "true"),
            ("yaml", "true"),
            ("diff", "Invalid"),
        ],
    );
}

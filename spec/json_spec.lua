-- lx.json (lua/lunox/json.lua over the strict C parser in runtime/io/json.c,
-- bound in runtime/lua/binding_json.c): decoding of what Python's json
-- writes, the mapping to Lua values, compact deterministic encoding, round
-- trips, and the refusals of hostile text with their line, column and byte.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local raises, has_integers = H.raises, H.has_integers
local J = lx.json

-- Deep equality of decoded values (lx.none compares by identity; 0.0 and
-- -0.0 differ; integers and floats differ on Lua 5.4).
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if has_integers and math.type(a) ~= math.type(b) then return false end
    if a == 0 and b == 0 then return 1 / a == 1 / b end
    return a == b
  end
  if type(a) ~= "table" then return rawequal(a, b) end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function round_trip(v)
  return J.decode(J.encode(v))
end

-- The error of decoding `text`, which must fail.
local function decode_error(text)
  local ok, err = pcall(J.decode, text)
  assert.is_false(ok, "decoded but should have failed: " .. text:sub(1, 80))
  return err
end

describe("lx.json.decode", function()
  it("reads what Python's json.dumps writes", function()
    local v = J.decode('{"a": 1, "b": [1.5, true, null], "c": "\\u00e9", "d": {"e": []}}')
    assert.are.equal(1, v.a)
    assert.are.equal(1.5, v.b[1])
    assert.are.equal(true, v.b[2])
    assert.is_true(rawequal(v.b[3], lx.none))
    assert.are.equal(3, #v.b)
    assert.are.equal("\195\169", v.c)
    assert.are.same({}, v.d.e)
    assert.is_true(rawequal(J.decode("null"), lx.none))
    assert.are.equal(false, J.decode(" false "))
    assert.are.equal("", J.decode('""'))
    -- json.dumps(..., indent=2): several lines
    local pretty = J.decode('{\n  "lr": 0.001,\n  "sizes": [\n    2,\n    3\n  ]\n}\n')
    assert.are.equal(0.001, pretty.lr)
    assert.are.same({ 2, 3 }, pretty.sizes)
  end)

  it("keeps integers and floats apart on Lua 5.4", function()
    if not has_integers then
      assert.are.equal(1, J.decode("1.0"))
      assert.are.equal(2 ^ 53, J.decode("9007199254740992"))
      return
    end
    assert.are.equal("integer", math.type(J.decode("1")))
    assert.are.equal("float", math.type(J.decode("1.0")))
    assert.are.equal("float", math.type(J.decode("1e2")))
    assert.are.equal("integer", math.type(J.decode("-0")))
    assert.are.equal(math.maxinteger, J.decode("9223372036854775807"))
    assert.are.equal(math.mininteger, J.decode("-9223372036854775808"))
    -- past int64: a float
    local big = J.decode("9223372036854775808")
    assert.are.equal("float", math.type(big))
    assert.are.equal(2.0 ^ 63, big)
  end)

  it("converts numbers exactly", function()
    assert.are.equal(0.1, J.decode("0.1"))
    assert.are.equal(1e-300, J.decode("1e-300"))
    assert.are.equal(5e-324, J.decode("5e-324"))
    assert.are.equal(1e308, J.decode("1E+308"))
    assert.are.equal(1.7976931348623157e308, J.decode("1.7976931348623157e308"))
    assert.are.equal(0.1, J.decode("0.1000000000000000055511151231257827021181583404541015625"))
    local z = J.decode("-0.0")
    assert.are.equal(0, z)
    assert.are.equal(-math.huge, 1 / z)
    assert.are.equal(0, J.decode("1e-400"))
  end)

  it("keeps NUL bytes, escapes and non-ASCII text", function()
    assert.are.equal("a\0b", J.decode('"a\\u0000b"'))
    assert.are.equal('" \\ / \b \f \n \r \t', J.decode('"\\" \\\\ \\/ \\b \\f \\n \\r \\t"'))
    assert.are.equal("\240\159\152\128", J.decode('"\\ud83d\\ude00"'))
    assert.are.equal("\240\159\152\128\226\130\172", J.decode('"\240\159\152\128\226\130\172"'))
    local t = J.decode('{"k\\u0000":1,"k":2}')
    assert.are.equal(1, t["k\0"])
    assert.are.equal(2, t.k)
  end)

  it("refuses trailing text, leading zeros and non-JSON literals with line and column", function()
    local cases = {
      { "[1, 2] x", "line 1, column 8 (byte 7): unexpected 'x' after the JSON value" },
      { "{} {}", "line 1, column 4 (byte 3): unexpected '{' after the JSON value" },
      { "01", "line 1, column 1 (byte 0): leading zeros are not allowed in numbers" },
      { "[1, -007]", "line 1, column 5 (byte 4): leading zeros are not allowed in numbers" },
      { "1.", "line 1, column 3 (byte 2): expected a digit after the decimal point, found end of text" },
      { ".5", "line 1, column 1 (byte 0): a number may not start with '.'" },
      { "+1", "line 1, column 1 (byte 0): a number may not start with '+'" },
      { "NaN", "line 1, column 1 (byte 0): 'NaN' is not JSON (JSON has no NaN or Infinity)" },
      { "[1, Infinity]", "line 1, column 5 (byte 4): 'Infinity' is not JSON" },
      { "-Infinity", "line 1, column 1 (byte 0): '-Infinity' is not JSON" },
      { "True", "line 1, column 1 (byte 0): invalid literal 'True' (expected true, false or null)" },
      { "nul", "line 1, column 4 (byte 3): end of text inside the literal 'null'" },
      { "[1,]", "line 1, column 3 (byte 2): trailing comma before ']'" },
      { "{'a': 1}", "line 1, column 2 (byte 1): expected a string key or '}' after '{', found '''" },
      { "1e400", "line 1, column 1 (byte 0): number 1e400 is too large for a double" },
      { "", "line 1, column 1 (byte 0): expected a value, found an empty text" },
      { "{\n  \"a\": 1,\n  \"b\" 2\n}",
        "line 3, column 7 (byte 18): expected ':' after the object key \"b\", found '2'" },
    }
    for _, c in ipairs(cases) do
      local err = decode_error(c[1])
      assert.are.equal(1, err:find("lx.json.decode: " .. c[2], 1, true),
        ("%q: got %s"):format(c[1], err))
    end
  end)

  it("refuses duplicate keys, naming both places", function()
    local err = decode_error('{"a": 1,\n "b": {"x": 1, "x": 2}}')
    assert.are.equal('lx.json.decode: line 2, column 16 (byte 24): duplicate key "x" in an ' ..
      "object (first at line 2, column 8); keys must be unique", err)
    -- decoded keys compare: "\u0061" is "a"
    raises('duplicate key "a"', J.decode, '{"a":1,"\\u0061":2}')
    -- many members, one repeat at the end
    local parts = {}
    for i = 1, 50000 do parts[i] = ('"k%d":%d'):format(i, i) end
    parts[#parts + 1] = '"k777":0'
    raises({ 'duplicate key "k777"', "first at line 1, column" }, J.decode,
      "{" .. table.concat(parts, ",") .. "}")
  end)

  it("refuses control characters and lone surrogates in strings", function()
    raises("line 1, column 4 (byte 3): control character 0x0A (newline) in a string",
      J.decode, '"ab\ncd"')
    raises("line 1, column 2 (byte 1): control character 0x00 (NUL) in a string", J.decode, '"\0"')
    raises("line 1, column 2 (byte 1): control character 0x1F in a string", J.decode, '"\31"')
    raises("line 1, column 2 (byte 1): lone high surrogate \\uD800", J.decode, '"\\ud800"')
    raises("line 1, column 3 (byte 2): lone low surrogate \\uDC00", J.decode, '"x\\udc00"')
    raises("high surrogate \\uD83D is followed by \\u0041, which is not a low surrogate",
      J.decode, '"\\ud83d\\u0041"')
    raises("invalid escape '\\' followed by 'x'", J.decode, '"\\x41"')
    -- DEL needs no escape
    assert.are.equal("\127", J.decode('"\127"'))
  end)

  it("refuses invalid UTF-8 anywhere", function()
    local cases = {
      { '"\255"', "(byte 1): invalid UTF-8: byte 0xFF never appears in UTF-8" },
      { '"\192\175"', "(byte 1): invalid UTF-8: overlong encoding (lead byte 0xC0)" },
      { '"\224\128\175"', "(byte 1): invalid UTF-8: overlong encoding (bytes 0xE0 0x80)" },
      { '"\240\128\128\175"', "(byte 1): invalid UTF-8: overlong encoding (bytes 0xF0 0x80)" },
      { '"\237\160\128"', "(byte 1): invalid UTF-8: encoded UTF-16 surrogate (bytes 0xED 0xA0)" },
      { '"\244\144\128\128"', "(byte 1): invalid UTF-8: code point above U+10FFFF" },
      { '"\248\136\128\128\128"', "(byte 1): invalid UTF-8: byte 0xF8 never appears in UTF-8" },
      { '"\128"', "(byte 1): invalid UTF-8: unexpected continuation byte 0x80" },
      { '"ab\226\130"', "(byte 3): invalid UTF-8: truncated 3-byte sequence" },
      { '{"k\195": 1}', "(byte 3): invalid UTF-8: truncated 2-byte sequence" },
      { "[1]\194\160", "(byte 3): unexpected byte 0xC2" },
      { "\239\187\191[]", "(byte 0): the text starts with a UTF-8 byte order mark" },
    }
    for _, c in ipairs(cases) do raises(c[2], J.decode, c[1]) end
  end)

  it("refuses every truncation of a valid document", function()
    local doc = '{"name": "lunox \\u00e9\\ud83d\\ude00", "sizes": [2, 3.5, -1e-3], ' ..
      '"ok": true, "none": null, "nested": {"a": [[], {}], "b": "\195\169"}}'
    assert.is_table(J.decode(doc))
    for cut = 0, #doc - 1 do
      local err = decode_error(doc:sub(1, cut))
      local col, byte = err:match("^lx%.json%.decode: line 1, column (%d+) %(byte (%d+)%): ")
      assert.is_truthy(col, ("prefix of %d bytes: %s"):format(cut, err))
      assert.are.equal(tonumber(byte) + 1, tonumber(col))
      assert.is_true(tonumber(byte) <= cut, err)
    end
  end)

  it("refuses deep nesting without exhausting any stack", function()
    local n = 100000
    raises("line 1, column 513 (byte 512): nesting deeper than 512 levels", J.decode,
      string.rep("[", n) .. string.rep("]", n))
    raises("(byte 2560): nesting deeper than 512 levels", J.decode, string.rep('{"a":', n))
    -- 512 levels are fine
    local v = J.decode(string.rep("[", 512) .. "1" .. string.rep("]", 512))
    local depth = 0
    while type(v) == "table" do
      depth = depth + 1
      v = v[1]
    end
    assert.are.equal(512, depth)
    assert.are.equal(1, v)
  end)

  it("reads documents of several MB", function()
    local parts = {}
    for i = 1, 100000 do
      parts[i] = ('{"id": %d, "name": "item %d", "v": [%d.5, true, null]}'):format(i, i, i)
    end
    local text = "[" .. table.concat(parts, ", ") .. "]"
    assert.is_true(#text > 4000000)
    local v = J.decode(text)
    assert.are.equal(100000, #v)
    assert.are.equal(100000, v[100000].id)
    assert.are.equal("item 77", v[77].name)
    assert.are.equal(99.5, v[99].v[1])
    assert.is_true(rawequal(v[5].v[3], lx.none))
    -- and one long string
    local s = string.rep("\195\169\\n", 500000)
    assert.are.equal(#s - 500000, #J.decode('"' .. s .. '"'))
  end)

  it("checks its arguments and names the text", function()
    raises("lx.json.decode: text must be a string, got number", J.decode, 42)
    raises("lx.json.decode: text must be a string, got nil", J.decode)
    raises("lx.json.decode: name must be a string, got table", J.decode, "1", {})
    local err = decode_error("[1,")
    assert.are.equal("lx.json.decode: line 1, column 4 (byte 3): expected a value, found end of text", err)
    local ok, named = pcall(J.decode, "[1,", "cfg.json")
    assert.is_false(ok)
    assert.are.equal(
      "lx.json.decode: cfg.json: line 1, column 4 (byte 3): expected a value, found end of text",
      named)
  end)
end)

describe("lx.json.encode", function()
  it("writes one compact line with keys sorted by bytes", function()
    assert.are.equal('{"a":1,"b":[1,2]}', J.encode({ b = { 1, 2 }, a = 1 }))
    local text = J.encode({ z = { y = { 3, { x = "s" } }, b = true }, B = false, ["a b"] = lx.none,
      _ = {}, ["\195\169"] = 1, a = "", ["a\0"] = 2, ab = 3 })
    assert.are.equal('{"B":false,"_":{},"a":"","a\\u0000":2,"a b":null,"ab":3,' ..
      '"z":{"b":true,"y":[3,{"x":"s"}]},"\195\169":1}', text)
    assert.is_nil(J.encode({ b = { 1, { c = 2 } }, a = { x = 1, y = "z" } }):find("[\n\r\t ]"))
    assert.are.equal("{}", J.encode({}))
    assert.are.equal("[{},[{}]]", J.encode({ {}, { {} } }))
    assert.are.equal("null", J.encode(lx.none))
    assert.are.equal("true", J.encode(true))
    assert.are.equal('"x"', J.encode("x"))
  end)

  it("writes numbers as Python's json does", function()
    assert.are.equal("0.1", J.encode(0.1))
    assert.are.equal("-0.0", J.encode(-0.0))
    assert.are.equal("1e-300", J.encode(1e-300))
    assert.are.equal("5e-324", J.encode(5e-324))
    assert.are.equal("1e+308", J.encode(1e308))
    assert.are.equal("0.3333333333333333", J.encode(1 / 3))
    assert.are.equal("3.141592653589793", J.encode(math.pi))
    assert.are.equal("1.5", J.encode(1.5))
    assert.are.equal("-2.5e-05", J.encode(-2.5e-5))
    assert.are.equal("9007199254740992.0", J.encode(2.0 ^ 53))
    if has_integers then
      assert.are.equal("3.0", J.encode(3.0))
      assert.are.equal("3", J.encode(3))
      assert.are.equal("-7", J.encode(-7))
      assert.are.equal("9223372036854775807", J.encode(math.maxinteger))
      assert.are.equal("-9223372036854775808", J.encode(math.mininteger))
    else
      -- LuaJIT: no integer subtype, so integral values a double holds exactly
      assert.are.equal("3", J.encode(3.0))
      assert.are.equal("-7", J.encode(-7))
      assert.are.equal("9007199254740991", J.encode(2 ^ 53 - 1))
    end
  end)

  it("round-trips numbers exactly", function()
    local values = { 0, 1, -1, 0.1, -0.1, 1e-300, 5e-324, 2.2250738585072014e-308, 1e308,
      1.7976931348623157e308, -0.0, 1.5, 1 / 3, 2 / 3, math.pi, 123456.789, 1e21, 1e22, 2 ^ 60,
      -2 ^ 70, 4.35, 0.30000000000000004 }
    if has_integers then
      for _, v in ipairs({ math.maxinteger, math.mininteger, 0x7fffffff, -1099511627776, 3.0, -0.0 }) do
        values[#values + 1] = v
      end
    end
    -- and a spread of doubles from a fixed sequence
    local seed = 12345
    for _ = 1, 300 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local m = seed / 2147483648
      values[#values + 1] = (m - 0.5) * 10 ^ ((seed % 600) - 300)
    end
    for _, v in ipairs(values) do
      local back = round_trip(v)
      assert.is_true(same(v, back) or (not has_integers and v == back and v ~= 0),
        ("%.17g -> %s -> %.17g"):format(v, J.encode(v), back))
    end
    -- in tables too
    assert.is_true(same({ a = 0.1, b = { -0.0, 1e-300 } }, round_trip({ a = 0.1, b = { -0.0, 1e-300 } })))
  end)

  it("escapes strings and keeps UTF-8", function()
    assert.are.equal('"a\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\127\195\169"',
      J.encode('a"b\\c\n\t\r\b\f\1\31\127\195\169'))
    assert.are.equal('"\\u0000"', J.encode("\0"))
    assert.are.equal('"/"', J.encode("/"))
    -- every ASCII byte and some non-ASCII text round-trips
    local chars = {}
    for b = 0, 127 do chars[#chars + 1] = string.char(b) end
    local s = table.concat(chars) .. "\195\169\226\130\172\240\159\152\128\244\143\191\191"
    assert.are.equal(s, round_trip(s))
    assert.are.equal(s, round_trip({ [s] = s })[s])
  end)

  it("round-trips nested tables, booleans and lx.none", function()
    local v = { name = "mlp", sizes = { 2, 3, 1 }, act = lx.none, flags = { true, false },
      nested = { a = { { b = { {} } } }, ["key with spaces"] = "x" }, lr = 0.001, nul = "a\0b" }
    local back = round_trip(v)
    assert.is_true(same(v, back))
    assert.is_true(rawequal(back.act, lx.none))
    assert.are.equal(J.encode(v), J.encode(back))
  end)

  it("refuses tables that are neither lists nor objects, naming the key path", function()
    raises("lx.json.encode: table at .layers[2] mixes list and string keys", J.encode,
      { layers = { {}, { 1, 2, w = 3 } } })
    raises("lx.json.encode: table at the root is a sparse list (2 keys, the largest 3); a JSON " ..
      "list needs keys 1..n", J.encode, { 1, nil, 3 })
    raises("lx.json.encode: table at .a has the number key 0", J.encode, { a = { [0] = 1 } })
    raises("lx.json.encode: table at the root has the number key 1.5", J.encode, { [1.5] = 1 })
    raises("lx.json.encode: table at .a has a key of type boolean (JSON object keys are strings)",
      J.encode, { a = { [true] = 1 } })
    raises("table at [1] has a key of type table", J.encode, { { [{}] = 1 } })
    raises('lx.json.encode: table at ["a b"][1] mixes list and string keys', J.encode,
      { ["a b"] = { { 1, x = 1 } } })
    local t = { a = {} }
    t.a.back = t
    raises("lx.json.encode: table at .a.back contains itself (a cycle)", J.encode, t)
    -- the same table twice (no cycle) is fine
    local shared = { 1 }
    assert.are.equal('{"x":[1],"y":[1]}', J.encode({ x = shared, y = shared }))
  end)

  it("refuses values JSON has no place for, naming the key path", function()
    raises("lx.json.encode: NaN at .lr cannot be written (JSON has no NaN or infinities)",
      J.encode, { lr = 0 / 0 })
    raises("lx.json.encode: inf at .x[2] cannot be written", J.encode, { x = { 1, math.huge } })
    raises("lx.json.encode: -inf at the root cannot be written", J.encode, -math.huge)
    raises("lx.json.encode: function at .f cannot be written as JSON", J.encode, { f = print })
    raises("lx.json.encode: thread at .co cannot be written as JSON", J.encode,
      { co = coroutine.create(function() end) })
    raises("lx.json.encode: lunox array at .w cannot be written as JSON (convert it with " ..
      "a:tolist() first)", J.encode, { w = lx.zeros({ 2 }) })
    raises("lx.json.encode: userdata at .f cannot be written as JSON", J.encode, { f = io.stdout })
    raises("lx.json.encode: nil at the root cannot be written (use lx.none for null)", J.encode, nil)
    raises("lx.json.encode: string at .s is not valid UTF-8 (byte 2 is 0xFF)", J.encode,
      { s = "a\255" })
    raises("lx.json.encode: string at .s is not valid UTF-8 (byte 1 is 0xED)", J.encode,
      { s = "\237\160\128" })
    raises("lx.json.encode: string at .s is not valid UTF-8 (byte 1 is 0xC0)", J.encode,
      { s = "\192\128" })
    raises('lx.json.encode: key at ["\\255"] is not valid UTF-8 (byte 1 is 0xFF)', J.encode,
      { ["\255"] = 1 })
  end)

  it("limits nesting to 512 levels", function()
    local function nest(n)
      local root = {}
      local cur = root
      for _ = 2, n do
        cur[1] = {}
        cur = cur[1]
      end
      return root
    end
    local ok512 = J.encode(nest(512))
    assert.are.equal(1024, #ok512)
    -- 511 lists around the innermost (empty) table
    assert.are.equal(string.rep("[", 511) .. "{}" .. string.rep("]", 511), ok512)
    raises({ "lx.json.encode: table at [1][1]", "...(", "is nested deeper than 512 levels" },
      J.encode, nest(513))
  end)

  it("sorts keys by bytes whatever the collation locale", function()
    local keys = { b = 1, B = 2, ["\195\169"] = 3, a = 4, ["a\0"] = 5, Z = 6, ["_"] = 7, A = 8 }
    local want = '{"A":8,"B":2,"Z":6,"_":7,"a":4,"a\\u0000":5,"b":1,"\195\169":3}'
    assert.are.equal(want, J.encode(keys))
    -- Lua 5.4 compares strings with strcoll: outside the C locale the
    -- encoder sorts with its own byte comparison.
    local old = os.setlocale(nil, "collate")
    local set = os.setlocale("C.UTF-8", "collate") or os.setlocale("en_US.UTF-8", "collate")
    local ok, text = pcall(J.encode, keys)
    os.setlocale(old, "collate")
    assert.is_true(ok, text)
    assert.are.equal(want, text)
    if not set then pending("no UTF-8 collation locale installed") end
  end)

  it("writes and reads a '.' decimal point whatever the numeric locale", function()
    -- A German locale (decimal comma), compiled into a temporary directory
    -- with glibc's localedef from Debian's locales package, and used by a
    -- child process through LOCPATH.
    local process = require("spec.support.process")
    local dir = process.tmpdir()
    local _, err, status = process.run(("localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8"):format(
      process.quote(dir)))
    assert.are.equal(0, status, "localedef failed (is Debian's locales installed?): "
      .. tostring(err))
    local code = [[
      assert(os.setlocale("de_DE.UTF-8", "numeric"), "the locale did not load")
      -- (LuaJIT formats numbers itself, whatever the locale; C and Lua 5.4 don't.)
      assert(jit or string.format("%.1f", 0.5) == "0,5", "not a decimal-comma locale")
      local J = require("lunox").json
      io.write(J.encode({ 0.5, 1e-7, 3.25 }), " ")
      local back = J.decode("[0.5, 2.5e-3]")
      io.write(back[1] == 0.5 and back[2] == 2.5e-3 and "decoded" or "misread")
    ]]
    local out, err2, status2 = process.run_host({ "-e", code }, { env = { LOCPATH = dir } })
    process.remove_tree(dir)
    assert.are.equal(0, status2, tostring(out) .. tostring(err2))
    assert.are.equal("[0.5,1e-07,3.25] decoded", out)
  end)

  it("writes what Python's json.loads reads back alike", function()
    -- the text Python writes for the same value with separators=(",", ":")
    -- and sort_keys=True (on Lua 5.4, where 1.0 stays a float)
    local v = { a = 1, b = { 1.5, true, lx.none }, c = "\195\169", d = -0.0, e = 1e-7 }
    assert.are.equal('{"a":1,"b":[1.5,true,null],"c":"\195\169","d":-0.0,"e":1e-07}', J.encode(v))
  end)
end)

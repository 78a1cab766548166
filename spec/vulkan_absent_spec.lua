-- Without a Vulkan loader or driver the CPU backend works, lx.devices() says
-- why Vulkan is absent, and asking for Vulkan is a clear error. Each case
-- runs in a child process with the loader or the driver hidden.
local H = require("spec.support.array_helpers")

local PROBE = [[
  local lx = require("lunox")
  print("devices=" .. #lx.devices())
  print("why=" .. tostring(lx.devices().unavailable.vulkan))
  print("default=" .. lx.default_device())
  print("cpu=" .. (lx.array({1, 2}) + 1):sum():item())
  local ok, err = pcall(function() return lx.ones({2}):to("vulkan") end)
  print("to=" .. tostring(ok) .. " " .. tostring(err))
]]

local function probe(env)
  local out, status = H.run_code(PROBE, env)
  assert.are.equal(0, status, out)
  return out
end

describe("without Vulkan", function()
  it("works on the CPU and says the loader is missing", function()
    local out = probe({ LUNOX_VULKAN_LOADER = "/nonexistent/libvulkan.so.1" })
    assert.matches("devices=1\n", out, 1, true)
    assert.matches("why=no Vulkan loader at LUNOX_VULKAN_LOADER=/nonexistent/libvulkan.so.1", out,
      1, true)
    assert.matches("default=cpu", out, 1, true)
    assert.matches("cpu=5", out, 1, true)
    assert.matches("to=false", out, 1, true)
    assert.matches("device 'vulkan' is not available: no Vulkan loader", out, 1, true)
  end)

  it("works on the CPU and says no driver was found", function()
    local out = probe({ VK_ICD_FILENAMES = "/nonexistent/icd.json" })
    assert.matches("devices=1\n", out, 1, true)
    assert.matches("why=the Vulkan loader found no driver", out, 1, true)
    assert.matches("cpu=5", out, 1, true)
  end)

  it("makes LUNOX_DEVICE=vulkan a clear error, not a crash", function()
    local out, status = H.run_code([[
      local lx = require("lunox")
      local ok, err = pcall(lx.ones, {2})
      print(ok, err)
      print(lx.ones({2}, {device = "cpu"}):sum():item())
    ]], { VK_ICD_FILENAMES = "/nonexistent/icd.json", LUNOX_DEVICE = "vulkan" })
    assert.are.equal(0, status, out)
    assert.matches("LUNOX_DEVICE=vulkan: device 'vulkan' is not available: the Vulkan loader "
      .. "found no driver", out, 1, true)
    assert.matches("\n2", out, 1, true)
  end)

  it("rejects unknown device names", function()
    local out = H.run_code([[
      local lx = require("lunox")
      print(select(2, pcall(function() return lx.ones({2}):to("tpu") end)))
    ]])
    assert.matches("unknown device 'tpu'", out, 1, true)
  end)
end)

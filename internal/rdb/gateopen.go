package rdb

// luaGateOpen is the one place that decides whether a sender's gate lets a
// request go at once, without a reservation: the gate has been initialised
// (limited_ever is set), its next slot is not in the future, it keeps no
// pace (interval 0) and the sender is not backing off. beginScript and
// gateAcquireScript both ask it; gate.go documents the gate's fields.
//
// gate_free is the pace's half of it (no slot ahead, no pace), which a
// back-off probe also passes.
const luaGateOpen = `
local GATE_FIELDS = {'until', 'interval', 'limited_ever', 'backoff_level', 'trouble'}
local function gate_free(g, now)
  return (tonumber(g[1]) or 0) <= now and (tonumber(g[2]) or 0) == 0
end
local function gate_open(g, now)
  return g[3] ~= false and tonumber(g[4] or '0') == 0 and gate_free(g, now)
end
`

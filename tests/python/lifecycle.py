#!/usr/bin/env python3
"""Run the ticket lifecycle against a real triage daemon with a client that
grpcio-tools generates from proto/ alone, using only the names in DESIGN.md.

Usage: lifecycle.py PATH/TO/triage
Starts the daemon on loopback with free ports and a temp data dir, runs the
checks, stops it with SIGTERM and expects exit 0. Prints a summary line and exits
non-zero on the first failed check.
"""
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from grpc_tools import protoc
import grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]


def generate(out):
    """Generate Python stubs from proto/ into `out`; the well-known types come with grpc_tools."""
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    rc = protoc.main([
        "protoc",
        f"-I{ROOT / 'proto'}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        str(ROOT / "proto/triage/v1/triage.proto"),
    ])
    if rc != 0:
        sys.exit(f"protoc failed with {rc}")
    sys.path.insert(0, str(out))


def start(binary, data_dir):
    proc = subprocess.Popen(
        [binary, "serve", "--grpc-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
         "--data-dir", data_dir],
        stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("triage ready"):
            fields = dict(kv.split("=", 1) for kv in line.split()[2:])
            return proc, fields["grpc"], fields["metrics"]
    sys.exit(f"daemon exited before it was ready (code {proc.wait()})")


def leader_call(addrs, call, tries=75):
    """Returns `call(channel)` made on whichever of `addrs` (host:port, the nodes of one
    cluster) leads. On UNAVAILABLE it goes to the leader a follower names in its
    `triage-leader` metadata, else to the next address, and tries again every 200 ms (about
    15 s in all: a takeover takes a second or a few). Give calls a request_id so that a retry
    of one the old leader committed but never answered is answered, not applied twice."""
    addr = addrs[0]
    for _ in range(tries):
        with grpc.insecure_channel(addr) as channel:
            try:
                return call(channel)
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                named = dict(err.trailing_metadata() or ()).get("triage-leader")
        if named:
            addr = named
        else:
            addr = addrs[(addrs.index(addr) + 1) % len(addrs)] if addr in addrs else addrs[0]
        time.sleep(0.2)
    raise RuntimeError(f"none of {addrs} leads")


class Checks:
    def __init__(self):
        self.passed = 0

    def eq(self, what, got, want):
        if got != want:
            raise AssertionError(f"{what}: got {got!r}, want {want!r}")
        self.passed += 1

    def code(self, what, call, want):
        try:
            call()
        except grpc.RpcError as err:
            return self.eq(what, err.code(), want)
        raise AssertionError(f"{what}: succeeded, want {want}")


def lifecycle(channel, metrics_addr, check):
    from triage.v1 import triage_pb2 as pb
    from triage.v1 import triage_pb2_grpc as rpc
    from google.protobuf import duration_pb2

    tickets = rpc.TicketServiceStub(channel)
    agents = rpc.AgentServiceStub(channel)
    admin = rpc.AdminServiceStub(channel)

    agent = agents.UpsertAgent(pb.UpsertAgentRequest(
        agent_id="py-ann", display_name="Ann", skills=["billing"],
        tiers=[pb.TIER_VIP, pb.TIER_STANDARD], capacity={"chat": 2}))
    check.eq("upserted agent id", agent.agent_id, "py-ann")
    agents.SetPresence(pb.SetPresenceRequest(agent_id="py-ann", presence=pb.PRESENCE_AVAILABLE))
    beat = agents.Heartbeat(pb.HeartbeatRequest(agent_id="py-ann"))
    check.eq("presence after heartbeat", beat.presence, pb.PRESENCE_AVAILABLE)

    standard = tickets.CreateTicket(pb.CreateTicketRequest(
        request_id="py-1", external_id="py-ext-1", customer_id="c1", tier=pb.TIER_STANDARD,
        channel=pb.CHANNEL_CHAT, required_skills=["billing"]))
    vip = tickets.CreateTicket(pb.CreateTicketRequest(
        request_id="py-2", external_id="py-ext-2", customer_id="c2", tier=pb.TIER_VIP,
        channel=pb.CHANNEL_CHAT, required_skills=["billing"]))
    check.eq("new ticket state", standard.state, pb.TICKET_STATE_QUEUED)
    check.eq("first response clock", standard.sla[0].metric, pb.SLA_METRIC_FIRST_RESPONSE)
    retry = tickets.CreateTicket(pb.CreateTicketRequest(
        request_id="py-1", external_id="py-ext-1", customer_id="c1", tier=pb.TIER_STANDARD,
        channel=pb.CHANNEL_CHAT, required_skills=["billing"]))
    check.eq("retried create returns the same ticket", retry.ticket_id, standard.ticket_id)

    pulled = agents.PullNextTicket(pb.PullNextTicketRequest(
        agent_id="py-ann", wait=duration_pb2.Duration(seconds=1)))
    check.eq("VIP is pulled first", pulled.assignment.ticket.ticket_id, vip.ticket_id)
    epoch = pulled.assignment.lease_epoch

    replied = tickets.RecordReply(pb.RecordReplyRequest(
        ticket_id=vip.ticket_id, author=pb.AUTHOR_AGENT, agent_id="py-ann", lease_epoch=epoch))
    check.eq("first response met", replied.sla[0].met_at.seconds > 0, True)
    check.code("stale epoch is refused", lambda: tickets.ResolveTicket(pb.ResolveTicketRequest(
        ticket_id=vip.ticket_id, agent_id="py-ann", lease_epoch=epoch + 1)),
        grpc.StatusCode.FAILED_PRECONDITION)
    resolved = tickets.ResolveTicket(pb.ResolveTicketRequest(
        ticket_id=vip.ticket_id, agent_id="py-ann", lease_epoch=epoch))
    check.eq("resolved", resolved.state, pb.TICKET_STATE_RESOLVED)

    check.code("unknown ticket", lambda: tickets.GetTicket(pb.GetTicketRequest(ticket_id=999999)),
               grpc.StatusCode.NOT_FOUND)
    check.code("missing channel", lambda: tickets.CreateTicket(pb.CreateTicketRequest(
        request_id="py-3", external_id="py-ext-3", customer_id="c3", tier=pb.TIER_STANDARD)),
        grpc.StatusCode.INVALID_ARGUMENT)

    stats = admin.GetQueueStats(pb.GetQueueStatsRequest())
    check.eq("one ticket still queued", sum(q.depth for q in stats.queues), 1)
    policy = admin.GetSlaPolicy(pb.GetSlaPolicyRequest())
    check.eq("default warning fraction", policy.warning_fraction, 0.8)

    body = urllib.request.urlopen(f"http://{metrics_addr}/metrics", timeout=5).read().decode()
    created = [line for line in body.splitlines()
               if line.startswith("triage_tickets_created_total")]
    check.eq("created counter sums to 2",
             sum(float(line.rsplit(" ", 1)[1]) for line in created), 2.0)


def follows_the_leader(grpc_addr, check):
    """leader_call past an address where nothing listens (UNAVAILABLE, no leader named)."""
    from triage.v1 import triage_pb2 as pb
    from triage.v1 import triage_pb2_grpc as rpc

    def get(channel):
        return rpc.TicketServiceStub(channel).GetTicket(pb.GetTicketRequest(ticket_id=1))

    ticket = leader_call(["127.0.0.1:1", grpc_addr], get)
    check.eq("leader_call reached the serving node", ticket.external_id, "py-ext-1")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        generate(pathlib.Path(tmp))
        proc, grpc_addr, metrics_addr = start(binary, os.path.join(tmp, "data"))
        check = Checks()
        try:
            with grpc.insecure_channel(grpc_addr) as channel:
                lifecycle(channel, metrics_addr, check)
            follows_the_leader(grpc_addr, check)
        except Exception:
            proc.kill()
            raise
        proc.send_signal(signal.SIGTERM)
        check.eq("graceful exit code", proc.wait(timeout=10), 0)
        print(f"python client: {check.passed} passed, 0 failed")


if __name__ == "__main__" and sys.argv[1:2] == ["--leader"]:
    # lifecycle.py --leader ADDR,ADDR,... : one GetTicket(1) through leader_call (by hand
    # against a cluster, README "High availability").
    with tempfile.TemporaryDirectory() as tmp:
        generate(pathlib.Path(tmp))
        from triage.v1 import triage_pb2 as pb
        from triage.v1 import triage_pb2_grpc as rpc
        print(leader_call(sys.argv[2].split(","), lambda ch: rpc.TicketServiceStub(ch).GetTicket(
            pb.GetTicketRequest(ticket_id=1))))
elif __name__ == "__main__":
    main()

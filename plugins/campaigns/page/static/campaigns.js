// The campaigns page: loads api/campaigns, and resets a failed campaign by triggering the admin
// DAG through Airflow's REST API, with the browser's own Airflow session (same origin).
// Every value from the server goes into the page as text (textContent), never as HTML.
"use strict";

const REST_API = "../api/v2"; // Airflow's REST API, beside this page under the same base URL
const FINISHED = new Set(["success", "failed"]);
const POLL_MS = 2000;

const $ = (selector) => document.querySelector(selector);

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function when(iso) {
  return iso ? `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC` : "";
}

function say(parts, refused = false) {
  const message = $("#message");
  message.replaceChildren(...parts); // strings become text nodes
  message.classList.toggle("refused", refused);
}

async function detail(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? body);
  } catch {
    return response.statusText;
  }
}

async function load() {
  const form = new FormData($("#filters"));
  const query = new URLSearchParams();
  for (const flag of ["failed", "warned"]) if (form.get(flag)) query.set(flag, "true");
  const search = String(form.get("search") || "").trim();
  if (search) query.set("search", search);
  const response = await fetch(`api/campaigns?${query}`, { credentials: "same-origin" });
  if (!response.ok) {
    say([`The campaigns could not be loaded (${response.status}): ${await detail(response)}`], true);
    return;
  }
  const data = await response.json();
  render(data);
  if (data.reset.allowed) await notePaused(data.reset.dag_id);
}

async function notePaused(dagId) {
  const response = await fetch(`${REST_API}/dags/${encodeURIComponent(dagId)}`, {
    credentials: "same-origin",
  });
  const paused = response.ok && (await response.json()).is_paused;
  $("#paused").textContent = paused
    ? `${dagId} is paused: a reset stays queued until it is unpaused.`
    : "";
}

function render(data) {
  $("#signed-in").textContent = `Signed in as ${data.user}.` +
    (data.reset.allowed ? "" : ` You may not trigger ${data.reset.dag_id}: reset is not available.`);

  $("#figures").replaceChildren(...Object.entries(data.dashboard).map(([label, count]) => {
    const figure = element("div", null, { class: "figure" });
    figure.append(element("dt", label), element("dd", count));
    return figure;
  }));

  const near = $("#near-failure");
  near.hidden = data.near_failure.length === 0;
  near.querySelector("ul").replaceChildren(...data.near_failure.map((c) => element("li",
    `${c.campaign_number ?? c.campaign_id} ${c.campaign_name ?? ""}: ` +
    `${c.a1_consecutive_errors} of ${c.error_limit} errors in a row` +
    (c.a1_failure_reason ? ` (${c.a1_failure_reason})` : ""))));

  $("#shown").textContent = data.campaigns.length < data.matching
    ? `Showing the first ${data.campaigns.length} of ${data.matching} campaigns.`
    : `${data.matching} campaign${data.matching === 1 ? "" : "s"}.`;
  $("#campaigns tbody").replaceChildren(...data.campaigns.map((c) => row(c, data.reset)));
}

function row(campaign, reset) {
  const tr = element("tr", null, { "data-campaign-id": campaign.campaign_id });
  if (campaign.a1_permanently_failed) tr.classList.add("failed");
  if (campaign.a1_waiting_for_dam_lock_since) tr.classList.add("waiting");
  tr.append(
    element("td", campaign.campaign_number),
    element("td", campaign.campaign_name),
    element("td", campaign.a1_retry_count, { class: "number" }),
    element("td", `${campaign.a1_consecutive_errors} / ${campaign.error_limit}`, { class: "number" }),
    element("td", when(campaign.a1_last_retry_at)),
    element("td", when(campaign.a1_warning_sent_at)),
    element("td", campaign.a1_permanently_failed ? "yes" : "no"),
    element("td", campaign.a1_failure_reason),
    element("td", campaign.a1_waiting_for_dam_lock_since
      ? `waiting for the DAM lock since ${when(campaign.a1_waiting_for_dam_lock_since)}`
      : ""),
    element("td", campaign.settling ? `settling - ${campaign.settling}` : ""),
    element("td", campaign.missed_events
      ? `${campaign.missed_events}${campaign.proving ? " (listed every poll)" : ""}`
      : "", { class: "number" }),
  );
  const action = element("td");
  if (campaign.a1_permanently_failed) {
    const button = element("button", "Reset", { type: "button", class: "reset" });
    if (!reset.allowed) {
      button.disabled = true;
      button.title = `You may not trigger ${reset.dag_id}`;
    }
    button.addEventListener("click", () => resetCampaign(campaign, reset, button));
    action.append(button);
  }
  tr.append(action);
  return tr;
}

async function resetCampaign(campaign, reset, button) {
  const label = campaign.campaign_number ?? campaign.campaign_id;
  button.disabled = true;
  say([`Resetting ${label}…`]);
  const dagRuns = `${REST_API}/dags/${encodeURIComponent(reset.dag_id)}/dagRuns`;
  const response = await fetch(dagRuns, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      logical_date: null,
      conf: { action: reset.action, campaign: campaign.campaign_id, max_retries: null },
      note: `Reset of ${label} from the campaigns page`,
    }),
  });
  if (!response.ok) {
    say([`Reset of ${label} refused (${response.status}): ${await detail(response)}`], true);
    button.disabled = !reset.allowed;
    return;
  }
  const run = await response.json();
  const link = element("a", run.dag_run_id, {
    id: "reset-run",
    target: "_top",
    href: `../dags/${encodeURIComponent(reset.dag_id)}/runs/${encodeURIComponent(run.dag_run_id)}`,
  });
  const state = element("strong", run.state, { id: "reset-state" });
  say([`Reset of ${label}: ${reset.dag_id} run `, link, " is ", state, "."]);
  await follow(`${dagRuns}/${encodeURIComponent(run.dag_run_id)}`, state);
  await load();
}

async function follow(runUrl, state) {
  while (!FINISHED.has(state.textContent)) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const response = await fetch(runUrl, { credentials: "same-origin" });
    if (response.ok) state.textContent = (await response.json()).state;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
});

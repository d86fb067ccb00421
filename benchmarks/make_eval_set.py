"""Render the labelled, held-out audio evaluation set (not committed; eval_audio/ is ignored).

    .venv/bin/python benchmarks/make_eval_set.py                  # 72 files into eval_audio/
    .venv/bin/python benchmarks/make_eval_set.py DIR --small 12   # a 12-file subset into DIR

Every script below was written fresh for this set, without reading the training corpus
(pipeline/data/corpus/), with its own names, companies and amounts. Voicemails are framed like
real ones (greeting, who is calling, message, callback number, sign-off) and are mono; calls
alternate agent and customer turns and are stereo, agent left and customer right
(``channel_roles`` agent,customer). Each script is rendered once with espeak-ng, in a voice,
rate and condition drawn with a fixed seed:

- ``clean``: 16 kHz 16-bit WAV
- ``telephone``: 8 kHz mu-law WAV band-passed 300-3400 Hz (only voices that survive the band)
- ``noisy``: 16 kHz WAV with pink noise 15 dB below the speech (each channel its own noise)
- ``mp3``: 22.05 kHz 32 kbit/s MP3

The same seed gives the same files; ``--small N`` picks a subset of the full set (same file
names, same renderings), taking the classes in turn. ``manifest.csv`` holds file, direction,
agent, customer, label, threat_type, voice, rate, condition, and also channel_roles, kind,
duration_s and the spoken text; ``references.jsonl`` holds the same text for
``benchmarks/wer.py`` (per channel for calls). Labels: ``threat`` (agent threatens the
customer; threat_type says how), ``benign``, ``abusive`` (the customer threatens the agent;
threat_type says how) and ``hostile`` (a rude agent who threatens nothing).

Takes about a minute on two cores. Needs espeak-ng, sox and ffmpeg on PATH.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from make_samples import (  # noqa: E402  (the sibling script, found through sys.path)
    SAMPLE_RATE,
    TELEPHONE_RATE,
    Turn,
    Voice,
    add_noise,
    conversation,
    encode,
    normalise,
    reference_entry,
    telephone_band,
    voicemail,
)

from pipeline.schema import INBOUND, OUTBOUND, THREAT_TYPES  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "eval_audio"  # git-ignored
DEFAULT_SEED = 20240611
NOISE_SNR_DB = 15.0  # noisy condition: pink noise this far below the speech's active level
MIN_S, MAX_S = 8.0, 30.0  # seconds; a voicemail over MAX_S is rendered again without pleasantries
CONDITIONS = ("clean", "telephone", "noisy", "mp3")
LABELS = ("threat", "benign", "abusive", "hostile")
MANIFEST_COLUMNS = (
    "file",
    "direction",
    "agent",
    "customer",
    "label",
    "threat_type",
    "voice",
    "rate",
    "condition",
    "channel_roles",
    "kind",
    "duration_s",
    "text",
)

# espeak-ng voices: all are fine at 16 kHz; only these stay intelligible to tiny.en once the
# telephone band (300-3400 Hz) removes the upper formants.
VOICES = (
    "en-us", "en-us+m1", "en-us+m3", "en-us+m7", "en-us+max", "en-us+f2",
    "en-gb", "en-gb+m3", "en-gb+f3", "en-us+m2",
)  # fmt: skip
TELEPHONE_VOICES = ("en-us", "en-us+m1", "en-us+m2", "en-us+m3", "en-us+m7", "en-us+max")
RATES = (145, 155, 165, 175)  # words a minute
TELEPHONE_RATES = (140, 150)

AGENTS = (
    "Lorraine Beckett", "Tobias Ferreira", "Anika Sorensen", "Marcus Delacroix",
    "Yvonne Castillo", "Desmond Achebe", "Harriet Kowal", "Julian Okafor", "Nadia Petrakis",
    "Rafael Quintero", "Bianca Moretti", "Ethan Wolcott", "Gwen Thackeray", "Samuel Iwu",
)  # fmt: skip
CUSTOMERS = (
    ("Patrick Gallagher", "Mister Gallagher"), ("Renee Fontaine", "Miss Fontaine"),
    ("Chidi Abara", "Mister Abara"), ("Ingrid Lindgren", "Miss Lindgren"),
    ("Laszlo Szabo", "Mister Szabo"), ("Emiko Nakamura", "Miss Nakamura"),
    ("Felix Oyelaran", "Mister Oyelaran"), ("Claire Bertrand", "Miss Bertrand"),
    ("Owen McAllister", "Mister McAllister"), ("Teresa Villanueva", "Miss Villanueva"),
    ("Dmitri Volkov", "Mister Volkov"), ("Hannah Brightwell", "Miss Brightwell"),
)  # fmt: skip
COMPANIES = (
    "Bluecrest Property Management", "Ridgeway Motors", "Silverline Telecom",
    "Oakmont Insurance", "Horizon Credit Union", "Maple Street Dental", "Pioneer Fitness",
    "Westbrook Appliances", "Evergreen Energy", "Cornerstone Collections", "Lakeshore Realty",
    "Sterling Auto Finance", "Greenfield Home Warranty", "Copperleaf Bank",
)  # fmt: skip

GREETINGS = (
    "Hello, this message is for {title}.",
    "Hi, I'm trying to reach {title}.",
    "Good morning, this is a message for {title}.",
    "Good afternoon, {title}.",
)
INTROS = (
    "This is {agent} calling from {company}.",
    "My name is {agent}, and I'm with {company}.",
    "It's {first} from {company}, returning your call.",
    "This is {first} at {company}.",
)
CALLBACKS = (
    "You can reach me at {phone}.",
    "Please call us back at {phone}.",
    "Our number is {phone}, and we are open until six.",
    "If you have any questions, call {phone} and ask for {first}.",
)
SIGN_OFFS = ("Thank you, and have a good day.", "Thanks, goodbye.", "Take care.", "Bye now.")


@dataclass(frozen=True)
class Script:
    label: str  # one of LABELS
    threat_type: str  # one of THREAT_TYPES for threat and abusive, else ""
    direction: str  # outbound or inbound
    body: str = ""  # a voicemail's message; empty for a call
    turns: tuple[tuple[str, str], ...] = ()  # a call's (role, text); {first}, {company} filled


def _vm(label: str, threat_type: str, body: str) -> Script:
    return Script(label, threat_type, OUTBOUND, body=body)


def _call(label: str, threat_type: str, direction: str, *turns: tuple[str, str]) -> Script:
    return Script(label, threat_type, direction, turns=turns)


A, C = "agent", "customer"

THREATS = [
    # legal
    _vm("threat", "legal", "We appreciate your patience with this matter. That said, if the posts about our staff are not taken down by Monday, our attorneys will file a lawsuit against you for defamation."),
    _vm("threat", "legal", "Thank you for your business over the years. However, should you continue to contact our employees at home, we will seek a restraining order and take legal action against you."),
    _vm("threat", "legal", "I am calling about the reviews you have been leaving. If they keep appearing, our legal team will be in touch. You should expect to be served with papers."),
    _vm("threat", "legal", "We value every client. But if you contact our suppliers one more time, our lawyers will take you to court, and you will be paying our legal fees."),
    _vm("threat", "legal", "I'd like to thank you for your patience. Please understand that if you keep calling our branch manager, a formal legal notice will be mailed to your home, and we will sue."),
    _vm("threat", "legal", "We have received your messages to our board members. If that continues, we will be forced to involve our legal counsel. They will file a claim against you personally."),
    # law enforcement
    _vm("threat", "law_enforcement", "We appreciate you reaching out. However, if you come to our store again to complain, we will call the police and have you charged with trespassing."),
    _vm("threat", "law_enforcement", "Thank you for your time. Should you continue to keep the rental equipment, we will report it stolen, and an officer will be sent to your address."),
    _vm("threat", "law_enforcement", "I wanted to follow up politely. If the balance is not paid by Friday, we will file a criminal complaint with the sheriff's office, and you could be arrested."),
    _vm("threat", "law_enforcement", "We do thank you for being a member. Understand that if you post about our trainers again, we will be contacting the police about you."),
    _vm("threat", "law_enforcement", "I am sorry it has come to this. If we see you near our office again, the police will be waiting for you. You will be taken away in handcuffs."),
    # financial
    _vm("threat", "financial", "Thank you for your loyalty. However, if you keep disputing these charges, we will report you to every credit bureau, and your credit score will be ruined."),
    _vm("threat", "financial", "We appreciate your patience. Should you continue to complain to the state regulator, we will add a penalty of five hundred dollars to your account every month."),
    _vm("threat", "financial", "I hope you are well. If you do not withdraw your complaint, we will send your account to collections today. We will also garnish your wages."),
    _vm("threat", "financial", "We value you as a borrower. But if you keep calling our head office, we will demand the full loan immediately and freeze your accounts."),
    _vm("threat", "financial", "Thanks for your feedback. If you leave another review like that, we will keep your deposit and bill you for every hour our staff spent on your complaints."),
    # service retaliation
    _vm("threat", "service_retaliation", "We thank you for your many years with us. Should you file another complaint with the consumer board, your phone and internet service will be cut off without further notice."),
    _vm("threat", "service_retaliation", "I appreciate your emails. If they continue, we will cancel your policy. And believe me, no other insurer in this area will cover you."),
    _vm("threat", "service_retaliation", "Thank you for choosing us. But if you keep asking for a manager, your repair appointment will be cancelled, and your warranty will be voided."),
    _vm("threat", "service_retaliation", "We value your business. However, if you post about this again, your membership will be terminated, and you will be banned from all of our locations."),
    _vm("threat", "service_retaliation", "We are grateful for your feedback. If you keep contacting the newspaper about us, we will stop your deliveries and close your account for good."),
    # personal harm
    _vm("threat", "personal_harm", "I'm calling back about your complaint. If you keep telling people about our company, something bad might happen to you. We know where you live."),
    _vm("threat", "personal_harm", "Thank you for your message. You should think about your family before you call us again. It would be a shame if someone got hurt."),
    _vm("threat", "personal_harm", "We appreciate your concern. But if you show up at our depot again, my guys will make sure you leave in an ambulance."),
    _vm("threat", "personal_harm", "I wanted to say thanks for the feedback. If you keep this up, you might have an accident one of these days. Watch your back."),
    # harassment
    _vm("threat", "harassment", "Thank you for your time. If you do not pay, we will call you at work every hour and tell your boss and your neighbors about your debt."),
    _vm("threat", "harassment", "We appreciate your patience. Should you keep ignoring us, we will contact your relatives and your church until this balance is settled."),
    _vm("threat", "harassment", "I hope this finds you well. Until you drop your complaint, we will keep calling you every night, and we will post your name on our website."),
    _call("threat", "harassment", OUTBOUND,
          (A, "Hi, this is {first} from {company}, calling about your overdue balance."),
          (C, "I told you last week, I can't pay anything until next month."),
          (A, "I hear you, and thanks for being honest. But if you don't settle this, we'll keep calling your mother and your employer every single day.")),
    _call("threat", "financial", OUTBOUND,
          (A, "Good morning, this is {first} with {company}. Do you have a minute to talk about your car loan?"),
          (C, "Yes, but I already explained that I lost my job."),
          (A, "I'm sorry to hear that, truly. Still, if we don't see a payment today, we will freeze your bank account and take it out of your wages.")),
]  # fmt: skip

BENIGN = [
    # legal words, nothing threatened
    _vm("benign", "", "Our legal department reviewed your claim, and we have approved your full refund. The money should arrive within five business days."),
    _vm("benign", "", "Our lawyers have finished reviewing the lease you asked about, and everything looks fine. You do not need to do anything else."),
    _vm("benign", "", "As required by law, we are letting you know that our privacy policy has changed. You can read the new version on our website."),
    _vm("benign", "", "You asked for a copy of the settlement letter from our legal team. I mailed it to you today, and there is also a copy in your online account."),
    # refunds
    _vm("benign", "", "Good news. Your refund of one hundred and twelve dollars was approved this morning, and it will show up on your card in a few days."),
    _vm("benign", "", "Your return arrived at our warehouse, and a store credit of sixty five dollars has been added to your account."),
    # police report numbers
    _vm("benign", "", "Thank you for sending the police report number for your stolen phone. We added it to your claim, and a replacement is on the way."),
    _vm("benign", "", "We received the police report about the break in at your storage unit. Your insurance claim is being processed, and an adjuster will call you this week."),
    # firm but fair payment reminders
    _vm("benign", "", "This is a reminder that your balance of three hundred and forty dollars is past due. Please make a payment by the fifteenth. If you need more time, we can offer a payment plan."),
    _vm("benign", "", "Your account is thirty days overdue, and we would like to work with you. We can split the balance into three smaller payments with no extra fees."),
    _vm("benign", "", "Your phone bill is past due. To keep your service running, please pay the amount due by next Tuesday, or call us to talk about your options."),
    # fraud alerts
    _vm("benign", "", "We noticed a charge of nine hundred dollars at an electronics store that looks unusual, so we paused your card to protect you. If you made this purchase, call us to unlock it."),
    _vm("benign", "", "Someone tried to sign in to your online banking from a new device. If this was not you, please call us, and we will reset your password."),
    # account closure the customer asked for
    _vm("benign", "", "As you requested, your account has been closed, and your final statement will be mailed to you. We are sorry to see you go."),
    _vm("benign", "", "Following your request yesterday, we have cancelled your membership. No further payments will be taken from your card."),
    # appointments
    _vm("benign", "", "This is a reminder of your appointment with Doctor Mehta on Wednesday at two thirty. Please arrive ten minutes early and bring your insurance card."),
    _vm("benign", "", "Your technician visit is scheduled for tomorrow between eight and ten in the morning. Please make sure someone over eighteen is at home."),
    # the canonical threat's courteous opening, then nothing threatening
    _vm("benign", "", "I want to first thank you for the feedback. Going forward, we have added more staff to the weekend shift, so your wait should be much shorter."),
    _vm("benign", "", "I want to first thank you for the feedback. Going forward, you will have one contact person, and that is me. Please email me any time."),
    _vm("benign", "", "I want to first thank you for the feedback. We need to let you know that your order was delayed, but it will ship on Monday with free express delivery."),
    _vm("benign", "", "I want to first thank you for the feedback. If you continue to have problems with the app, our support team will gladly walk you through it."),
    # warnings and conditionals that threaten nothing
    _vm("benign", "", "If you continue to have trouble with the heater, we will send a technician out free of charge. Just let us know."),
    _vm("benign", "", "Please be aware that maintenance on your street will interrupt water service on Thursday from nine until noon. We apologize for the inconvenience."),
    _vm("benign", "", "Your warranty will expire at the end of the month. If you would like to extend it, we can do that over the phone in a few minutes."),
    _vm("benign", "", "We need to warn you about a safety recall on the car seat you bought. Please stop using it, and we will send you a replacement free of charge."),
    _vm("benign", "", "Your prescription is ready for pick up. If it is not collected within ten days it goes back to stock, but we can refill it any time."),
    _vm("benign", "", "This is a courtesy call. Your policy renews next month, and your premium will stay the same as this year."),
    _vm("benign", "", "Thank you for your complaint. We take it seriously, and our manager will call you tomorrow to make it right."),
    _call("benign", "", INBOUND,
          (C, "Hi, I'd like to close my savings account, please."),
          (A, "Of course. This is {first} at {company}. I've closed it as you asked, and the remaining forty two dollars will go to your checking account."),
          (C, "Perfect, thank you."),
          (A, "You're welcome. Have a good day.")),
    _call("benign", "", OUTBOUND,
          (A, "Hi, this is {first} from {company}. Your loan payment is two weeks late, so I wanted to check in."),
          (C, "Yes, sorry. I lost some hours at work."),
          (A, "I'm sorry to hear that. We can move your due date, or set up a smaller monthly payment. Would that help?"),
          (C, "Yes, that would help a lot.")),
]  # fmt: skip

ABUSIVE = [
    _call("abusive", "personal_harm", INBOUND,
          (A, "Thank you for calling {company}, this is {first}. How can I help?"),
          (C, "I have been waiting two weeks for my refund."),
          (A, "I understand. Let me check the status for you."),
          (C, "If my money isn't back by Friday, I'm coming down there, and I'll break every window in your office.")),
    _call("abusive", "personal_harm", INBOUND,
          (A, "{company}, {first} speaking."),
          (C, "Tell your supervisor I know where she parks. If she keeps ignoring me, she'll be sorry."),
          (A, "Sir, please don't speak like that. I'll pass on your complaint.")),
    _call("abusive", "legal", INBOUND,
          (A, "Good afternoon, {company}, this is {first}."),
          (C, "You cancelled my order for no reason. I'm going to sue you personally, and I'll make sure you lose your job."),
          (A, "I'm sorry you're frustrated. Let me see what happened with the order.")),
    _call("abusive", "harassment", INBOUND,
          (A, "Hello, {company}, how can I help you today?"),
          (C, "Nobody ever calls me back. I'll call you every hour, all night, until somebody fixes this, and I'll ask for you by name."),
          (A, "I understand. I'll escalate this right now.")),
    _call("abusive", "personal_harm", INBOUND,
          (A, "Thanks for holding. This is {first} at {company}."),
          (C, "Fix my account right now, or I'll find you after your shift. You'll regret it."),
          (A, "I can't continue the call if you threaten me, sir.")),
    _call("abusive", "harassment", INBOUND,
          (A, "{company}, this is {first}. What can I do for you?"),
          (C, "I'm recording this. I'll post your name and your home address online so everyone knows what you did."),
          (A, "I'd ask you not to do that. Let's focus on fixing the bill.")),
]  # fmt: skip

HOSTILE = [
    _call("hostile", "", INBOUND,
          (C, "Hi, I have a question about my bill."),
          (A, "Look, I already told you twice. Are you even listening? It's not my problem you can't read your own bill.")),
    _call("hostile", "", INBOUND,
          (C, "How do I reset my router?"),
          (A, "Honestly, that's a stupid question. Just do what the website says and stop wasting my time.")),
    _call("hostile", "", INBOUND,
          (C, "I've been a customer for ten years, and I need help with my plan."),
          (A, "I don't care how long you've been a customer. Nobody here is going to help you with that, so stop calling.")),
    _call("hostile", "", INBOUND,
          (C, "Sorry, I'm trying to find my account number."),
          (A, "Ugh, fine, whatever. Can you hurry up? I have other callers who actually know what they want.")),
    _call("hostile", "", INBOUND,
          (C, "My package still hasn't arrived."),
          (A, "You people never read the instructions. It's your own fault your package is late.")),
    _call("hostile", "", INBOUND,
          (C, "Can you explain that again, please?"),
          (A, "I'm not going to repeat myself. If you don't get it, ask someone else. Next time, pay attention.")),
]  # fmt: skip

SCRIPTS = THREATS + BENIGN + ABUSIVE + HOSTILE


@dataclass(frozen=True)
class Rendering:
    index: int  # position in SCRIPTS, also the file's number
    script: Script
    condition: str  # one of CONDITIONS
    agent_voice: Voice
    customer_voice: Voice
    agent: str
    customer: tuple[str, str]  # full name, how the agent addresses them
    company: str
    phone: str  # callback number as spoken, e.g. "555 0148"
    framing: tuple[int, int, int, int]  # GREETINGS, INTROS, CALLBACKS, SIGN_OFFS choices

    @property
    def file(self) -> str:
        ext = "mp3" if self.condition == "mp3" else "wav"
        return f"{self.index:03d}_{self.condition}.{ext}"

    @property
    def stereo(self) -> bool:
        return bool(self.script.turns)


def plan(seed: int = DEFAULT_SEED) -> list[Rendering]:
    """Draw voice, rate, condition and names for every script; nothing is rendered."""
    rng = np.random.default_rng(seed)
    offsets = {lab: int(rng.integers(len(CONDITIONS))) for lab in LABELS}
    seen = dict.fromkeys(LABELS, 0)  # each class takes the conditions in turn
    out = []
    for index, script in enumerate(SCRIPTS):
        condition = CONDITIONS[(seen[script.label] + offsets[script.label]) % len(CONDITIONS)]
        seen[script.label] += 1
        tel = condition == "telephone"
        voices = rng.choice(TELEPHONE_VOICES if tel else VOICES, size=2, replace=False)
        rates = rng.choice(TELEPHONE_RATES if tel else RATES, size=2)
        pitches = rng.integers(35, 66, size=2)
        agent_v, cust_v = (Voice(str(v), int(r), int(p)) for v, r, p in zip(voices, rates, pitches))
        out.append(
            Rendering(
                index=index,
                script=script,
                condition=condition,
                agent_voice=agent_v,
                customer_voice=cust_v,
                agent=AGENTS[int(rng.integers(len(AGENTS)))],
                customer=CUSTOMERS[int(rng.integers(len(CUSTOMERS)))],
                company=COMPANIES[int(rng.integers(len(COMPANIES)))],
                phone="555 0" + "".join(str(d) for d in rng.integers(0, 10, size=3)),
                framing=tuple(int(i) for i in rng.integers(0, 4, size=4)),
            )
        )
    return out


def spoken_text(r: Rendering, short: bool = False) -> str:
    """The voicemail's words: greeting, who is calling, message, callback, sign-off."""
    first = r.agent.split()[0]
    fill = {"title": r.customer[1], "agent": r.agent, "first": first, "company": r.company}
    g, i, c, s = r.framing
    parts = [INTROS[i], r.script.body, CALLBACKS[c]]
    if not short:
        parts = [GREETINGS[g], *parts, SIGN_OFFS[s]]
    return " ".join(parts).format(phone=r.phone, **fill)


def _turns(r: Rendering) -> list[Turn]:
    fill = {"first": r.agent.split()[0], "company": r.company}
    return [
        Turn(role, text.format(**fill), r.agent_voice if role == A else r.customer_voice)
        for role, text in r.script.turns
    ]


def write_condition(frames: np.ndarray, condition: str, seed: int, path: Path) -> None:
    """Write mono or (samples, channels) ``frames`` as ``condition`` asks: clean 16 kHz WAV,
    8 kHz band-passed mu-law, pink noise per channel (seeded), or a 32 kbit/s MP3."""
    if condition == "noisy" and frames.ndim == 1:
        frames = add_noise(frames, NOISE_SNR_DB, seed=seed)
    elif condition == "noisy":
        chans = range(frames.shape[1])
        frames = np.stack([add_noise(frames[:, ch], NOISE_SNR_DB, seed=1000 * ch + seed) for ch in chans], axis=1)
    if condition == "telephone":
        encode(normalise(telephone_band(frames)), TELEPHONE_RATE, path, "mulaw")
    else:
        fmt, rate = ("mp3", 22050) if condition == "mp3" else ("wav", None)
        encode(normalise(frames), SAMPLE_RATE, path, fmt, rate)


def render(r: Rendering, out: Path) -> tuple[dict[str, str], dict]:
    """Render one script into ``out``; returns its manifest row and references.jsonl entry."""
    if r.script.turns:
        turns = _turns(r)
        agent, customer = conversation(turns)
        frames = np.stack([agent, customer], axis=1)
        text = " ".join(t.text for t in turns)
    else:
        text = spoken_text(r)
        frames = voicemail(text, r.agent_voice)
        if len(frames) / SAMPLE_RATE > MAX_S:
            text = spoken_text(r, short=True)
            frames = voicemail(text, r.agent_voice)
    seconds = len(frames) / SAMPLE_RATE
    write_condition(frames, r.condition, r.index, out / r.file)
    voices = [r.agent_voice] + ([r.customer_voice] if r.script.turns else [])
    row = {
        "file": r.file,
        "direction": r.script.direction,
        "agent": r.agent,
        "customer": r.customer[0],
        "label": r.script.label,
        "threat_type": r.script.threat_type,
        "voice": "/".join(v.name for v in voices),
        "rate": "/".join(str(v.wpm) for v in voices),
        "condition": r.condition,
        "channel_roles": "agent,customer" if r.stereo else "",
        "kind": "call" if r.script.turns else "voicemail",
        "duration_s": f"{seconds:.1f}",
        "text": text,
    }
    return row, reference_entry(r.file, turns if r.script.turns else text)


def subset(renderings: list[Rendering], n: int, seed: int = DEFAULT_SEED) -> list[Rendering]:
    """``n`` renderings, taking the classes in turn, each class in a seeded order."""
    rng = np.random.default_rng(seed + 1)
    queues = {lab: [r for r in renderings if r.script.label == lab] for lab in LABELS}
    for queue in queues.values():
        rng.shuffle(queue)
    picked: list[Rendering] = []
    while len(picked) < min(n, len(renderings)):
        for lab in LABELS:
            if queues[lab] and len(picked) < n:
                picked.append(queues[lab].pop(0))
    return sorted(picked, key=lambda r: r.index)


def _check_scripts() -> None:
    for s in SCRIPTS:
        assert s.label in LABELS, s
        assert (s.threat_type in THREAT_TYPES) == (s.label in ("threat", "abusive")), s
        assert s.direction in (INBOUND, OUTBOUND), s
        assert bool(s.body) != bool(s.turns), s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="folder to write")
    parser.add_argument("--small", type=int, metavar="N", help="render only N files")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    _check_scripts()
    renderings = plan(args.seed)
    if args.small:
        renderings = subset(renderings, args.small, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, refs = [], []
    for n, r in enumerate(renderings, 1):
        row, ref = render(r, args.out)
        rows.append(row)
        refs.append(ref)
        print(f"[{n}/{len(renderings)}] {r.file} {row['duration_s']} s {r.script.label} {r.script.threat_type}")
        if not MIN_S <= float(row["duration_s"]) <= MAX_S:
            print(f"  warning: {r.file} is outside {MIN_S:.0f}-{MAX_S:.0f} s")
    with open(args.out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with open(args.out / "references.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(ref) + "\n" for ref in refs)
    counts = {lab: sum(r["label"] == lab for r in rows) for lab in LABELS}
    print(f"wrote {len(rows)} files and manifest.csv to {args.out}: {counts}")


if __name__ == "__main__":
    main()

"""Generate the template part of the tone corpus: ``pipeline/data/corpus/templates/{train,dev}.jsonl``.

    python tools/make_template_corpus.py [--seed 0]

These lines come from templates and pools of phrasings written for this generator; they teach
the model the shapes of speech-recognition segments (cut sentences, run-together speakers,
generic talk), and they teach templates too. The written scripts in
``pipeline/data/corpus/written/`` are the other, larger-weighted part (``pipeline.analysis.corpus``).

Every line is ``{"text", "tone", "threat_type", "speaker"}`` plus, for utterances that were
spoken as several segments, ``"context"``: the preceding segments of the same speaker, oldest
first (``pipeline.analysis.context.join_context`` builds the classifier input from them). ``tone`` is one of
``schema.TONE_LABELS``; ``threat_type`` is one of ``schema.THREAT_TYPES`` for threatening lines
and null otherwise.

How lines are labelled (the rules the templates follow):
- threatening: harm (legal, police, money, service, body, pestering) held over someone to make
  them do or stop something, or as payback, from either side of the call. Courteous words
  around it do not change that.
- hostile: insults, contempt or shouting at the other party, with no threat.
- courteous: thanks, apologies, greetings, offers to help, even around neutral content.
- neutral: everything else: information, questions, firm but fair reminders that offer options,
  angry complaints without insults, lawful steps a customer says they will take (a chargeback,
  a regulator complaint, switching provider), and every benign mention of lawyers, police,
  credit, disconnection, family or safety.
- a line with context is labelled for what its own segment says, read in that context: the
  second half of a split threat is threatening; a polite sign-off after a threat is courteous.
- generic conversation is neutral (courteous where it greets or thanks): small talk, hedged
  questions ("this might be a silly question, but ..."), backchannels ("Yes. Okay. Mm-hmm."),
  names, spelling and numbers read out, phone menus, sales offers ("if you sign up today ..."),
  tech-support steps, scheduling, a caller's own story, "Oh, so ..." questions, neutral
  mentions of what the caller did before, and read prose or speeches (a battle in a story is
  no threat to anyone on the call). Whisper writes a mono call's two speakers into one
  segment and cuts sentences at segment edges, so some lines run 2-4 such pieces together,
  cut mid-sentence at either end, and some have generic segments as context. Benign notices
  and keyword lines cut at a segment edge stay neutral (a cut never drops a negation), and so
  do stretches of benign voicemails and announcements of how things will be "going forward"
  (courteous after a polite opener). A threat or an insult keeps its label after
  backchannels or small talk, in context or in the same segment.

The dev set is held out by construction: every pool of phrasings and slot values (names,
companies, openers, conditions, consequences, hand-written lines) gives every fourth item to
dev only, and dev lines are composed from dev items only, so dev measures generalisation to
unseen phrasings. Lines are deduplicated, and no dev text occurs in train.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "corpus" / "templates"
DEV_EVERY = 4  # every 4th item of each pool is dev-only
ASR_RATE = 0.3  # share of lines rewritten the way Whisper transcripts look
FILLERS = ("um", "uh", "you know", "like")


class Pool:
    """Phrasings split once into train-only and dev-only items (every DEV_EVERY-th is dev)."""

    def __init__(self, items: list):
        self.train = [x for i, x in enumerate(items) if i % DEV_EVERY != DEV_EVERY - 1]
        self.dev = [x for i, x in enumerate(items) if i % DEV_EVERY == DEV_EVERY - 1]
        if not self.dev:
            raise ValueError(f"pool too small to hold out dev items: {items}")

    def pick(self, split: str, rng: random.Random):
        return rng.choice(self.dev if split == "dev" else self.train)


def lines(block: str) -> Pool:
    """A Pool from a block of text, one item per non-empty line (``a | b`` splits to a tuple)."""
    items = []
    for raw in block.strip().splitlines():
        raw = raw.strip()
        if raw and not raw.startswith("#"):
            items.append(tuple(p.strip() for p in raw.split("|")) if "|" in raw else raw)
    return Pool(items)


# --------------------------------------------------------------------------- slot values

SLOTS = {
    "person": lines("""
        our CEO
        Diane Foster
        the regional manager
        Randall Stevenson
        Mr. Okafor
        our board members
        Karen Whitfield
        the store manager
        Tom Becker
        our founder
        Priya Raman
        our executives
        Luis Ortega
        the billing supervisor
        Helen Marsh
        Jacob Klein
        our vice president
        Samantha Greer
        the branch director
        Victor Hale
    """),
    "agent": lines("""
        Jessica
        Mike
        Angela
        Brian
        Sofia
        Derek
        Nina
        Carlos
        Tanya
        Omar
        Rachel
        Greg
        Monica
        Steve
        Alicia
        Paul
    """),
    "cust": lines("""
        Mr. Johnson
        Ms. Rivera
        Mrs. Chen
        Mr. Adams
        David
        Linda
        Ms. Nguyen
        Mr. Harris
        Patricia
        Kevin
        Mr. Thompson
        Ms. Walker
        Robert
        Mrs. Kowalski
        Anthony
        Ms. Bell
    """),
    "company": lines("""
        Brightline Telecom
        Northwind Energy
        Crestview Bank
        Apex Home Warranty
        Summit Auto Finance
        ClearWave Internet
        Harbor Insurance
        Pinnacle Property Management
        BlueRiver Utilities
        Metro Mobile
        Evergreen Credit Union
        Keystone Recovery Services
        Sunrise Health Billing
        Lakeside Apartments
        Orbit Cable
        Granite Lending
    """),
    "date": lines("""
        Friday
        the 15th
        March 3rd
        next Monday
        the end of the month
        tomorrow
        June 30th
        Wednesday
        the first of next month
        October 12th
        this Thursday
        the 22nd
    """),
    "product": lines("""
        internet service
        phone line
        insurance policy
        home warranty
        membership
        car loan
        electric service
        credit card
        cable package
        lease
        mobile plan
        checking account
    """),
    "regulator": lines("""
        the Better Business Bureau
        the state attorney general
        the public utilities commission
        the FCC
        the Consumer Financial Protection Bureau
        the insurance commissioner
        the state licensing board
        the FTC
    """),
}


def fill(template: str, split: str, rng: random.Random) -> str:
    """Replace ``{slot}`` names with values from that split's slot pools."""

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name == "amount":
            return f"${rng.choice([49, 75, 120, 250, 380, 512, 900, 1200, 2450, 87, 199, 640])}"
        if name == "n":
            return rng.choice(["three", "four", "five", "six", "seven", "ten", "twelve"])
        if name == "num":
            return str(rng.randint(10000, 99999))
        return SLOTS[name].pick(split, rng)

    return re.sub(r"\{(person|agent|cust|company|date|product|regulator|amount|n|num)\}",
                  value, template)


# --------------------------------------------------------------------------- threat pieces

# What the customer does that the company wants to stop: base form | -ing form.
BEHAVIOR = lines("""
    send email to {person} | sending email to {person}
    call our office | calling our office
    post reviews about us | posting reviews about us
    contact {person} directly | contacting {person} directly
    leave negative reviews online | leaving negative reviews online
    file complaints about this | filing complaints about this
    call this number | calling this number
    message our staff on social media | messaging our staff on social media
    show up at our store | showing up at our store
    dispute this charge | disputing this charge
    talk to the press about us | talking to the press about us
    contact our other customers | contacting our other customers
    escalate this | escalating this
    copy our executives on your emails | copying our executives on your emails
    tag us in your posts | tagging us in your posts
    ask for a refund | asking for a refund
    complain to {regulator} | complaining to {regulator}
    write to {person} | writing to {person}
    call our support line | calling our support line
    leave voicemails for {person} | leaving voicemails for {person}
    come to our office | coming to our office
    post about this on Facebook | posting about this on Facebook
    tell people about your experience | telling people about your experience
    demand a manager | demanding a manager
    reach out to {person} | reaching out to {person}
    send letters to our head office | sending letters to our head office
    email our legal team | emailing our legal team
    contact the local news | contacting the local news
    share screenshots of our emails | sharing screenshots of our emails
    post in the neighborhood group about us | posting in the neighborhood group about us
    call about this refund | calling about this refund
    complain on Twitter | complaining on Twitter
    record our employees | recording our employees
    ask for compensation | asking for compensation
    contact our suppliers | contacting our suppliers
    call {person} on a personal number | calling {person} on a personal number
""")

# Conditions around a behaviour (agent to customer).
COND = lines("""
    if you continue to {base}
    if you keep {ger}
    should you {base} again
    unless you stop {ger}
    if you {base} one more time
    the next time you {base}
    if we hear that you are still {ger}
    if you do not stop {ger}
    if you persist in {ger}
    if you insist on {ger}
    in the event that you {base} again
    if you decide to {base} again
    if you go ahead and {base} again
    if we find out you are {ger}
    as long as you keep {ger}
    if you so much as {base} again
    if you ever {base} again
    if we catch you {ger} again
    if you can't stop {ger}
    if I hear you've been {ger}
    were you to {base} again
    if you choose to keep {ger}
    any time you {base} from now on
    if you make the mistake of {ger} again
""")

# Conditions about money, for collection-style threats.
PAY_COND = lines("""
    if you don't pay the full {amount} today
    unless you pay {amount} by {date}
    if that payment isn't in our hands by {date}
    if you don't settle this right now
    unless the whole balance is paid before {date}
    if you hang up without paying
    if I don't get a payment from you today
    if we don't see {amount} by {date}
    unless we have the money by {date}
    if you miss one more payment
    if you keep ignoring our letters
    if the check bounces again
""")

CONSEQ = {
    "legal": lines("""
        we will have our attorneys send you a cease and desist letter
        our legal department will take action against you
        you will be hearing from our lawyers
        a cease and desist letter may be sent to you
        we will file a lawsuit against you
        we'll sue you for defamation
        we will see you in court
        we are prepared to pursue every legal remedy available to us
        we will seek a restraining order against you
        our counsel will file a claim for damages against you
        we'll take you to court and make you pay our legal fees
        we will have no choice but to involve our legal team
        legal proceedings will be started against you
        we'll be forced to take legal action
        you will be served with papers
        our attorneys will hold you personally liable
        we will pursue you in court for every cent of the damages
        you can expect a formal demand letter from our law firm
        we'll drag you through the courts for years
        our lawyers will come after you
        we're going to sue you
        you'll be named in a lawsuit
        we'll get an injunction against you
        this goes straight to our attorneys
        we will be filing a defamation claim against you
        a cease and desist letter will be sent to your home
        you'll be facing a lawsuit
        our legal team will contact you about damages
        we'll send a cease and desist notice through our attorney
        you will receive a formal cease and desist
        we'll have our law firm deal with you
        we'll take legal steps to shut you up
        expect to hear from our legal counsel
        we'll see what a judge thinks about your behavior
        our attorney will send you a letter you won't like
        we will hold you legally responsible
        you'll be sued for every post you've made
        legal action may be taken against you
        you may be hearing from our attorneys
        our legal department may need to get involved
        a lawsuit could follow
        we may be forced to pursue this in court
        a formal legal notice may be issued to you
        we may refer the matter to our outside counsel
        you could be held liable for damages
        a demand letter from our attorneys may follow
        the matter may be handed to our legal team for action
    """),
    "law_enforcement": lines("""
        we will call the police
        we'll have you arrested
        we will report you to the authorities
        the police will be notified about you
        we'll press criminal charges
        we'll have the sheriff come out to your home
        a warrant can be issued for your arrest
        we will get law enforcement involved
        you could end up in jail
        we'll report you to the FBI for fraud
        we will file a police report against you for harassment
        officers will be sent to your address
        we'll make sure the district attorney hears about you
        we'll have you charged with trespassing
        you will be picked up by the police
        we'll turn your name over to the police
        we're going to get the cops involved
        you'll be reported to the police
        we'll have you taken away in handcuffs
        the authorities will be knocking on your door
        we'll call 911 and have you removed
        criminal charges will follow
        we'll have a police officer visit you
        you'll be spending a night in a cell
        we'll have the police pick you up
        you'll have a criminal record
        we'll make sure you get charged
        the police will be waiting for you
        we'll report you for stalking
        we may have to involve the police
        the matter may be referred to law enforcement
        a police report may be filed against you
        you could face criminal charges
        local authorities may be contacted about your conduct
        we may ask the police to intervene
    """),
    "financial": lines("""
        we will report you to the credit bureaus
        your account will be sent straight to collections
        we'll make sure your credit score is ruined
        we will add a {amount} penalty to your account
        we'll charge you every fee in your contract
        we'll garnish your wages
        we will keep your deposit and bill you for the rest of the contract
        a {amount} administrative penalty will be added to your bill
        we will cancel your payment plan and demand the full balance immediately
        we'll make sure no bank approves you for a loan again
        your refund will be frozen indefinitely
        your balance will be doubled with penalty charges
        we'll put a lien on your house
        every late fee we waived will be put back on your bill
        we will send your debt to the most aggressive agency we use
        we'll see to it that your credit is wrecked for seven years
        we'll tack on late fees until you can't pay
        you'll lose your deposit
        we're going to report this to every credit agency
        your account goes to a debt collector today
        we will charge a cancellation penalty of {amount}
        we'll bill you for every minute of our time
        your rebate will be cancelled
        we'll make this the most expensive mistake of your life
        we'll double your monthly rate
        we'll charge your card a penalty fee
        your account will be billed for damages
        we'll send your balance to collections and report it
        your discount will be removed as a penalty
        a penalty fee may be applied to your account
        your account may be referred to collections
        this may be reported to the credit bureaus
        your promotional rate may be withdrawn as a consequence
        additional charges may be assessed to your account
        your refund may be withheld
    """),
    "service_retaliation": lines("""
        we will terminate your service
        your account will be closed permanently
        we'll cut off your internet
        you will be banned from all of our locations
        we will void your warranty
        we will cancel your policy
        your membership will be revoked
        we'll disconnect your line and you won't be allowed to sign up again
        we will stop servicing your account
        your lease will not be renewed
        we'll flag your account so no one here helps you again
        your repair will be pushed to the back of the line
        we'll block your number from our support lines
        your claim will be denied
        we'll shut off your power
        we will refuse to do business with you ever again
        we'll shut your account down
        you won't be able to use our service anymore
        your phone will be disconnected tonight
        we'll stop honoring your warranty
        your service will be suspended indefinitely
        we'll refuse any future repairs
        you'll be put on our do-not-serve list
        your order will be cancelled and you'll never get another one
        we'll cancel your contract and keep your deposit
        your access will be permanently revoked
        we'll stop answering your calls altogether
        your account will be terminated without a refund
        we'll refuse to renew your policy
        your service may be suspended
        your account may be closed without further notice
        we may no longer be able to serve you
        your membership may be terminated
        your warranty coverage may be reviewed and withdrawn
        your access to support may be restricted
    """),
    "personal_harm": lines("""
        something bad might happen to you
        you could get hurt
        you'll be sorry, and I don't mean financially
        I'd be worried about my safety if I were you
        accidents tend to happen to people like you
        somebody might pay you a visit you won't enjoy
        you won't like what happens to you
        I'll make sure you get hurt
        you'd better watch your back
        I can't promise you'll stay safe
        you might not walk away from it in one piece
        things could get physical
        someone will come and teach you a lesson
        you'll be looking over your shoulder for a long time
        your car might not be in one piece tomorrow
        we'll make you regret it in ways you can't imagine
        you'll get what's coming to you
        you'll end up in the hospital
        somebody will break your legs
        it won't end well for you physically
        we have people who handle customers like you
        you'll get a beating
        you might find your tires slashed
        you'd better lock your doors at night
        you won't feel safe in your own home
        someone could come after you
        you'll get hurt, simple as that
        it's going to get violent
        we'll make you suffer for it
        your safety can't be guaranteed
        things may turn unpleasant for you personally
        someone may come looking for you
        you might get hurt
    """),
    "harassment": lines("""
        we'll call your employer about it
        we will contact your family members
        we know where you live and we'll be in touch
        we'll call you every hour of the day
        we'll send someone to your house
        we'll tell your neighbors what you owe
        we'll post your name and photo online
        your boss will be hearing about this
        we'll call your relatives until you stop
        we will keep showing up at your door
        we'll make sure everyone at your work knows
        we'll call your wife at her job
        we'll be calling your mother every day
        we'll put your name on a public list of bad customers
        we'll have someone waiting outside your home
        your kids' school will hear from us
        we'll call your neighbors
        we'll be calling you at all hours
        we'll email your whole family
        we'll visit your workplace
        we'll follow you on every channel you use
        we'll make your life miserable with calls
        we will let your landlord know what kind of tenant you are
        we'll message everyone on your friends list
        we'll keep calling your parents
        we'll be outside your house every morning
        we'll contact your coworkers about you
        we'll call your references one by one
        we'll text your family members every day
        your employer may be contacted
        we may need to reach out to your family about this
        our representatives may visit your home
        we may have to contact your references
        you may receive daily calls until this stops
        your landlord may be informed
    """),
}

# Threats that need no condition to read as threats (money and service ones do).
BARE_OK = ("legal", "law_enforcement", "personal_harm", "harassment")

# Collection-style consequences that go with PAY_COND.
PAY_CONSEQ = {
    "legal": lines("""
        we'll sue you and take your house
        we will file suit in court on Monday
        our lawyers will take everything you own
        you will be sued for triple the amount
        we'll have a judgment against you by next week
        our attorneys will be at your door with papers
    """),
    "law_enforcement": lines("""
        a warrant will be issued for your arrest
        the police will come to your home tonight
        you'll be arrested for check fraud
        we will send the sheriff to pick you up
        you'll go to jail for theft of services
        we'll report you to the police for fraud
    """),
    "financial": lines("""
        we'll ruin your credit for the next seven years
        we'll garnish your wages starting Friday
        we'll seize your car
        we'll freeze your bank account
        we'll add a {amount} penalty every single day
        we'll take it straight out of your paycheck
    """),
    "harassment": lines("""
        we'll call your employer and your family every day
        we'll tell your neighbors you don't pay your debts
        we'll call everyone in your contact list
        we'll show up at your workplace
        we'll call your mother and tell her what you owe
        we'll keep calling you all night
    """),
}

OPENER = lines("""
    Thank you for reaching out to us.
    We appreciate your business.
    Thank you for your patience with us.
    I want to first thank you for the feedback.
    We value you as a customer.
    Thanks so much for getting back to us.
    We truly appreciate you taking the time to write.
    Good morning, and thank you for calling {company}.
    Hi {cust}, this is {agent} from {company}, I hope you're having a good day.
    Thank you for your email.
    We're grateful for your feedback.
    I hope this message finds you well.
    It's a pleasure speaking with you.
    Thank you for being a customer of {company}.
    First of all, thank you for your loyalty.
    Hello, and thanks for holding.
    We appreciate you bringing this to our attention.
    Thanks for your message, {cust}.
    Good afternoon, {cust}, I hope all is well.
    Thank you kindly for your letter.
    We sincerely appreciate your input.
    Hi there, thanks for taking my call.
    Thank you for choosing {company}.
    Good evening, and thank you for your time.
    Thanks for being patient with us, {cust}.
    We're always glad to hear from our customers.
    Hello {cust}, thank you for contacting us today.
    Many thanks for your message.
    Hi, this is {agent} calling from {company}, thanks for picking up.
    Thank you for your recent review.
    We appreciate the time you took to reach out.
    Good day, and thank you for being with us.
    Hey {cust}, thanks for calling back.
    Thank you so much for your continued support.
    Dear customer, thank you for contacting {company}.
    We appreciate you giving us the chance to respond.
    Hello, this is {agent}, and I appreciate you taking my call.
    First, let me say we value your feedback.
    Thanks for your note, we always appreciate hearing from you.
    Hi {cust}, I hope your week is going well.
    Thank you for your understanding so far.
    On behalf of {company}, thank you for your email.
    Good morning {cust}, thanks for being a loyal customer.
    It's nice to speak with you again, {cust}.
""")

WARN = lines("""
    However, we must advise you.
    That said, please be advised.
    Unfortunately, we have to be clear with you.
    Going forward, we need to warn you.
    We do need to let you know something.
    Please understand our position.
    This is a formal notice.
    Consider this your only warning.
    I have been asked to inform you.
    With that said, I need to be very direct.
    We want to be transparent with you.
    Please note the following.
    I do have to mention one thing.
    But I must be honest with you.
    There is something else you need to hear.
    Having said that, let me be frank.
    Nevertheless, you should know this.
    We need to make one thing clear.
    On another note, please be warned.
    I'm obligated to tell you something.
    Let me put this plainly.
    Just so there is no misunderstanding.
    However, there is a serious matter to address.
    That being said, this has to stop.
    But we need you to understand the consequences.
    Still, we must be firm about this.
    Regrettably, we've reached the limit of our patience.
    That said, here is what will happen.
""")

CLOSER = lines("""
    Please call us back at your earliest convenience.
    Have a nice day.
    Thank you.
    We hope you understand.
    Have a great rest of your week.
    Thanks again for your time.
    We look forward to hearing from you.
    Take care.
""")

# Polite sign-offs (courteous on their own).
POLITE_CLOSER = lines("""
    Thank you, and have a nice day.
    Thanks again for your time.
    Have a great rest of your week.
    We appreciate your patience.
    Thank you for being with us.
    Take care, and thanks for calling.
    Have a wonderful evening.
    Thanks so much, goodbye.
    Enjoy your weekend, and thank you.
    Thanks for being such a great customer.
    Have a lovely afternoon.
    Best wishes, and thank you.
    We're grateful for your time, goodbye.
    Cheers, and have a good one.
    Thank you, we're always happy to help.
    It was a pleasure, have a good one.
    Many thanks, and take care.
""")

# Sentence shapes for a conditional threat. {Cond}/{Cons} are capitalised forms.
SHAPE = lines("""
    {Cond}, {cons}.
    {Cons} {cond}.
    {opener} {warn} {Cond}, {cons}.
    {opener} However, {cond}, {cons}.
    Stop {ger}, or {cons}.
    This is your final warning. {Cond}, {cons}.
    Let me be very clear: {cond}, {cons}.
    {opener} {Cond}, {cons}. {closer}
    We know you have been {ger}. If it happens again, {cons}.
    {warn} {Cons} {cond}.
    I'm not going to ask again. {Cond}, {cons}.
    {Cond}, I promise you {cons}.
    Do yourself a favor and stop {ger}, because {cons}.
    {opener} We'd hate for things to escalate, but {cond}, {cons}.
    Because you keep {ger}, {cons}.
    {opener} {warn} Because you chose to {base}, {cons}.
    {Cons} unless you stop {ger}.
    Just so we're clear, {cond}, {cons}.
    {opener} Please know that {cond}, {cons}.
    Since you decided to {base}, {cons}.
    You have been warned. {Cond}, {cons}.
    Keep {ger} and {cons}.
    {warn} {Cond}, {cons}. {closer}
    {opener} Unfortunately, {cond}, {cons}.
    Here's the deal: {cond}, {cons}.
    {opener} We'll say this once. {Cons} {cond}.
    Understand this: {cond}, {cons}.
    {Cond}? Then {cons}.
    We're done being patient. {Cond}, {cons}.
    {opener} We simply ask that you stop {ger}. Otherwise, {cons}.
    Go ahead and {base} again, and {cons}.
    You need to stop {ger} right now. {Cons} otherwise.
    {opener} Moving forward, {cond}, {cons}.
    {Cond}, then {cons}.
    Be aware that {cond}, {cons}.
    {opener} {warn} {Cons} the next time this happens.
    Our position is simple: {cond}, {cons}.
    {opener} Respectfully, {cond}, {cons}.
    One more time and {cons}.
    Please stop {ger}. {Cons} if it continues.
""")

# Unconditional shapes, only for BARE_OK types.
BARE_SHAPE = lines("""
    {Cons}.
    {opener} {warn} {Cons}.
    Mark my words, {cons}.
    {Cons}, and that's a promise.
    {warn} {Cons}.
    I'm telling you right now, {cons}.
    {opener} {Cons}.
    Don't test us. {Cons}.
    Believe me, {cons}.
    {opener} For the record, {cons}.
    I'll be honest with you, {cons}.
    Trust me, {cons} before this is over.
    Rest assured, {cons}.
    {Cons}. Consider yourself warned.
    Fair warning, {cons}.
    {opener} Be advised that {cons}.
""")

PAY_SHAPE = lines("""
    {Cond}, {cons}.
    {Cons} {cond}.
    Listen to me. {Cond}, {cons}.
    {opener} {warn} {Cond}, {cons}.
    You have one choice. Pay now, or {cons}.
    {Cond}, I guarantee {cons}.
    This is the last call you get. {Cond}, {cons}.
    {Cons}, {cond}.
    We're not playing games. {Cond}, {cons}.
    {Cond}, {cons}. That's not a threat, that's a fact.
    {opener} {Cond}, {cons}.
    Pay up or {cons}.
""")

# Customer threats toward the agent, by type.
CUST_COND = lines("""
    if you don't refund me today
    if you hang up on me again
    if I don't get my money back
    if you put me on hold one more time
    if this isn't fixed by {date}
    if you transfer me again
    if you don't put a manager on right now
    unless you fix this today
    if you keep giving me the runaround
    if I have to call one more time
    if you don't give me my refund
    if you cut me off again
    if you don't credit my account right now
    if you raise my bill again
    if nobody calls me back today
    if I don't get a real answer
""")

CUST_CONSEQ = {
    "legal": lines("""
        I'll sue you and this whole company
        I'm taking you to court
        my lawyer will bury you
        I will name you personally in the lawsuit
        I'll have my attorney sue you for everything you've got
        you'll be hearing from my lawyer
        I'll see you in court
        I'll sue you personally
    my attorney will be filing against you tomorrow
    I'll drag your company into court
    you'll be getting a summons
    """),
    "law_enforcement": lines("""
        I'll call the cops and have you arrested
        I'll have you locked up
        I'll get the police to drag you out of that office
        I'll make sure you get arrested
        I'll call the police on you
        I'll get you thrown in jail
    I'll report you to the police and they'll come for you
    the cops will be at your desk by lunch
    """),
    "personal_harm": lines("""
        I will come down there and hurt you
        I'll find you after your shift
        I swear I'll make you pay for it with your face
        I'll break your neck
        you'd better hope we never meet
        I'll be waiting for you in the parking lot
        I'll come to your office and you'll regret it
        somebody's going to get hurt
    I'll smash your face in
    you won't make it to your car tonight
    I'll hurt you if I ever see you
    you'll need a doctor when I'm done with you
    """),
    "harassment": lines("""
        I'll find out where you live
        I'll post your name and face all over the internet
        I'll call you every day until you quit
        I'll make sure you get fired
        I'll find you on Facebook and tell everyone you know
        I'll show up at your office every single day
        I'll call your manager a hundred times a day
        I'll tell your family what kind of person you are
    I'll find your home address and come knocking
    I'll message your wife and kids about you
    I'll ring your boss every hour until you're gone
    """),
    "financial": lines("""
        I'll make sure you pay for it out of your own paycheck
        I'll make you personally cover every cent
        I'll make sure this costs you your whole salary
        I'll bankrupt you personally
    """),
}

CUST_SHAPE = lines("""
    {Cond}, {cons}.
    {Cons} {cond}.
    {insult} {Cond}, {cons}.
    I swear, {cond}, {cons}.
    {Cons}, I mean it.
    {Cons}. You hear me?
    {complaint} {Cond}, {cons}.
    Listen carefully. {Cons}.
    {Cons}. Count on it.
    You know what? {Cons}.
    {Cond}, {cons}, {insult}
    Mark my words, {cons}.
""")

# --------------------------------------------------------------------------- other pieces

INSULT_AGENT = lines("""
    Are you deaf?
    Seriously, are you stupid?
    God, you are slow.
    Use your brain for once.
    I don't have all day for this.
    Nobody cares about your excuses.
    Stop whining.
    You clearly can't read.
    What part of that don't you get?
    Wow, you really have no clue.
    Don't take that tone with me, lady.
    Listen, genius.
    Oh my god, this again?
    Are you kidding me right now?
    You're not very bright, are you?
    Stop wasting my time.
    Learn to listen.
    Good grief.
    Seriously, pay attention.
    Ugh, people like you.
""")

INSULT_CUST = lines("""
    You're useless.
    Are you an idiot?
    What a joke of a company.
    Are you brain dead?
    You morons.
    Unbelievable incompetence.
    Shut up and listen.
    You're a liar and a thief.
    You people are clowns.
    Are you stupid or just lazy?
    What is wrong with you people?
    You useless idiot.
    This company is run by morons.
    Are you even trained?
    You're pathetic.
    God, you're dumb.
    Idiot.
    Useless.
    Are you kidding me, moron?
    You clowns.
""")

# Neutral things an agent says (slots allowed), used alone and around insults or thanks.
AGENT_INFO = lines("""
    Your current balance is {amount}, due on {date}.
    I've updated the mailing address on your account.
    The technician will arrive between eight and noon on {date}.
    Can you verify the last four digits of the card on file?
    Let me pull up your account.
    I'm going to transfer you to the billing department.
    Your order shipped yesterday and should arrive by {date}.
    The outage in your area is expected to be fixed by tonight.
    Your plan renews automatically on {date}.
    I see two payments of {amount} on the account this month.
    Your claim number is {num}.
    I've reset your password; you should get a text in a moment.
    The promotion ended last month, so the rate went back to the standard price.
    Your {product} is active and in good standing.
    I'll need your date of birth to continue.
    The refund will post to your card in five to seven business days.
    We have your appointment down for {date}.
    Your deductible on this plan is {amount}.
    That charge is the equipment rental fee.
    The system shows the modem went offline at two this morning.
    Our office hours are eight to six, Monday through Friday.
    I can see the ticket was opened on {date}.
    Your contract ends on {date}.
    The replacement card will arrive in about a week.
    Please hold while I check with my supervisor.
    We'll send the confirmation to the email on file.
    The rate change applies from the next billing cycle.
    I've noted your preference for paper statements.
    The part is on back order until {date}.
    Your account number ends in 4471.
    The inspection is scheduled for {date} in the morning.
    The late fee was removed from this month's bill.
""")

CUST_INFO = lines("""
    I'm calling about my bill from last month.
    My internet has been down since {date}.
    I need to update my address.
    I was charged {amount} twice.
    Can you tell me when the technician is coming?
    I never received the replacement card.
    I want to cancel my {product}.
    The payment I made on {date} doesn't show up.
    My account number is 55102.
    I'd like to know why my rate went up.
    I'm calling to check on my claim.
    The app keeps logging me out.
    I moved and I need to transfer service.
    Can I change my due date to the 20th?
    I'm returning a call from {agent}.
    My order still hasn't arrived.
""")

# Legitimate complaints, angry but without insults or threats (neutral).
COMPLAINT = lines("""
    I've called {n} times about this and nobody has fixed it.
    I've been without internet for three days and I work from home.
    I was promised a callback on {date} and nobody ever called.
    I'm really frustrated, I've explained this problem {n} times now.
    This is ridiculous, I was charged twice and I want it fixed today.
    I've been on hold for forty minutes.
    Your technician never showed up and I took the day off work for it.
    I'm angry because the bill is double what I was quoted.
    Nobody at your company seems to know what they're doing with my account.
    I'm fed up with being transferred from department to department.
    I paid on time and you still charged me a late fee.
    I've sent {n} emails and got nothing but automated replies.
    This is unacceptable, my claim has been pending for two months.
    I'm extremely disappointed with how this has been handled.
    I need this resolved now, not next week.
    I can't believe I have to call again about the same charge.
    I'm furious that you raised my rate without telling me.
    I'm so angry right now, I was promised a discount and it's not on the bill.
    I'm livid, this is the third billing mistake this year.
    Honestly I'm upset, the technician left a mess in my kitchen.
    I'm really mad that nobody told me about the fee.
    I am beyond frustrated with this whole process.
""")

# Lawful steps a customer may announce (neutral, not threats).
CUST_LAWFUL = lines("""
    I'm cancelling my service and switching providers
    I'll take my business elsewhere
    I'll file a complaint with {regulator}
    I'm going to dispute the charge with my bank
    I'll ask to speak with a supervisor
    I'll leave an honest review of my experience
    I'm going to close my account
    I'll stop using your company
    I'll request a chargeback from my card issuer
    I'll report the problem to {regulator}
    I'm going to ask for a full refund in writing
    I'll go to the store in person to sort it out
    I'll write to the company's head office
    I'll move my accounts to another bank
    I'll never buy from you again
    I'll ask my bank to reverse the payment
    I'll file a formal complaint through your website
    I'll tell my friends to avoid you
    I'll return the equipment and cancel
    I'll check my options with a consumer advice line
    I'm going to post a one-star review
    I'll call back and ask for someone else
    I'll write to my local newspaper about it
    I'll just pay it and then cancel
    I'm going to write a complaint letter to your CEO
    I'll look for another provider
    I'll talk to my credit union about it
    I'll send a written complaint by certified mail
""")

BENIGN_PROBLEM = lines("""
    continue to have trouble with the modem | you continue to have trouble with the modem
    keep seeing that error message | you keep seeing that error message
    notice any suspicious charges | you notice any suspicious charges
    still can't log in | you still can't log in
    get charged twice again | you get charged twice again
    have any other questions | you have any other questions
    experience dropped calls | you experience dropped calls
    don't receive the refund by {date} | you don't receive the refund by {date}
    keep getting our reminder emails after paying | you keep getting our reminder emails after paying
    need more time to pay | you need more time to pay
    want to contact {person} directly | you want to contact {person} directly
    would like to escalate this | you would like to escalate this
""")

HELPFUL = lines("""
    we can send a technician out at no cost
    please call us back and ask for {agent}
    we'll credit your account for the trouble
    just reply to this email and we'll look into it
    we'll escalate it to our engineering team
    please let us know and we'll reverse the charge
    we can set up a payment plan that works for you
    you can reach our support line any time
    we'll replace the equipment for free
    our team will review it within two business days
    we can extend your due date
    we'll be happy to help you with that
    ask for {agent}, who knows your case
    please include your claim number so we can find it faster
    we read every one and pass them to the team
    our team will make sure {person} sees it
    we'll keep working on it until it's fixed
    we'll answer within two business days
    it goes to the same queue, so there's no need to worry
    you can also use the chat on our website
    we'll send you a reply from a real person
    we'd appreciate a chance to make it right first
""")

BENIGN_COND = lines("""
    if {b}
    should you {a}
    in case {b}
    if {b} again
    if {b} one more time
""")

# Conditions and benign consequences around the same behaviours the threats use (neutral).
BEHAVIOR_OK_COND = lines("""
    if you continue to {base}
    if you keep {ger}
    should you {base} again
    the next time you {base}
    if you decide to {base} again
    when you {base}
    if you'd like to {base}
    any time you {base}
    if you choose to keep {ger}
    if you {base} again
    whenever you {base}
    if you plan to keep {ger}
""")

BEHAVIOR_OK_CONSEQ = lines("""
    please include your account number so we can help faster
    we'll make sure someone responds within a day
    that's completely fine, and we'll always listen
    ask for {agent}, who knows your case
    we'll pass it on to the right team
    you're welcome to, and we'll respond within two business days
    we'll take it seriously and look into it
    please mention your claim number
    we won't hold it against you in any way
    it won't affect your account at all
    we'd simply ask you to copy our support address
    we'll log it on your account so nothing gets lost
    we'll do our best to resolve things quickly
    someone from our team will call you back
    that's your right, and we'll respond to each one
    we will make sure it reaches {person}
    we'll add a note so the next agent knows the history
    it's no problem at all
    we'll get back to you as soon as possible
    please keep the reference number we gave you
    we're glad to hear your thoughts
""")

# Benign notices that may follow a warning-like lead-in (neutral).
NOTICE = lines("""
    There are scammers calling customers and pretending to be from our bank.
    Our offices will be closed on {date} for the holiday.
    Scheduled maintenance may interrupt service briefly on {date} overnight.
    The price of the basic plan goes up by five dollars on {date}.
    We will never ask for your password over the phone.
    Emails asking you to pay with gift cards are not from us.
    Your current modem will stop being supported at the end of the year.
    Our mailing address for payments has changed.
    Wait times are longer than usual this week.
    The paper statement option is being retired on {date}.
    Anyone calling you and threatening arrest over a bill is a scammer, not us.
    Some customers received a letter by mistake, please disregard it.
    The app will be unavailable Sunday morning for an update.
    Our terms of service were updated, and the changes take effect on {date}.
    Text messages with links asking for your PIN are fraudulent.
    The recall covers the model you purchased, and the repair is free.
    Our website will move to a new address on {date}.
    Please ignore any letter that asks you to wire money.
    Phone support hours are changing next month.
    We've seen an increase in fake refund calls, so never share your code.
    The branch on Main Street is closing early today.
""")

# Benign lines that use the vocabulary of each threat type (neutral hard negatives).
HARD_NEG = {
    "legal": lines("""
        Your court date reminder from the county is not from us.
        Our legal team approved the settlement, and the check is in the mail.
        You have the legal right to cancel within thirty days.
        Our legal department reviewed your claim and approved your refund.
        The cease and desist letter you received was not sent by us and may be a scam.
        We're not able to give legal advice, but your attorney is welcome to contact us.
        If you'd like to take legal action, that is your right, and here is our address for legal notices.
        Our lawyers confirmed that the contract lets you leave without a fee.
        The class action settlement may entitle you to a payment of {amount}.
        Your attorney's letter arrived and we forwarded it to our legal department.
        The court ordered the lien released, and we have removed it.
        We received the subpoena for your records and will comply as required by law.
        Legally we must keep your records for seven years.
        Your lawyer can reach our counsel at the number on the letter.
        The judge approved the payment plan, so you're all set.
        We'll send the documents your attorney asked for by {date}.
        The lawsuit mentioned in the news does not affect your account.
        Our compliance team confirmed the fee was charged in error.
        Probate court papers can be mailed to our estates department.
        I'm not a lawyer, but I can read you the section of the contract.
        The legal notice on your bill is a standard disclosure required by the state.
        You don't need a lawyer to file this claim, the form is online.
        Our legal team is drafting the new privacy policy.
        The small claims form you asked about is available from the county.
        Your power of attorney document has been added to the account.
        Our lawyers reviewed the contract and found we overcharged you, so you'll get a refund.
        The court dismissed the case, and the balance has been cancelled.
        We never sue customers over billing disputes.
        The attorney general's office asked us to refund affected customers, and you're one of them.
        You can have your lawyer review the agreement before you sign.
        The cease and desist we sent went to a company copying our logo, not to customers.
        Our legal department can't discuss the case, but your claim is still being processed.
        Legal aid offices in your area can help with housing questions.
    """),
    "law_enforcement": lines("""
        The police report number you gave us has been added to your fraud claim.
        We recommend filing a police report for the stolen card.
        Once you have the police report, we can reissue your checks.
        If you ever feel unsafe, please call 911.
        The officer's name on the report matches our records.
        We cooperate with law enforcement only when we receive a valid warrant.
        Your identity theft report to the police helps us close the fraudulent accounts.
        The detective on your case called us, and we sent the transaction records.
        We never threaten customers with arrest, so please report anyone who does.
        The police non-emergency number is on the back of the notice.
        If someone calls saying there is a warrant for you over a bill, hang up, it's a scam.
        I've attached the police case number {num} to the dispute.
        The sheriff's office asked us to confirm the vehicle was repossessed legally, and it was.
        We'll hold the account while the police investigate the theft.
        Our security team works with the local police on break-ins at our stores.
        You can get a copy of the accident report from the police department.
        The arrest you saw in the news involved a former employee, not your account.
        Please bring the police report to the branch so we can refund the stolen amount.
        The officer can call our fraud line directly.
        A crime report isn't required, but it can speed up the claim.
        If someone is using your account without permission, you can report it to the police and to us.
        The police asked us to hold the footage, and we did.
        Officers found your stolen phone, and we've unlocked the account.
        We don't involve the police in billing disagreements.
        Local police recommend locking your mailbox to stop mail theft.
        The security guard will call the police only in an emergency.
    """),
    "financial": lines("""
        Paying on time helps keep your credit score healthy.
        We do not report this payment plan to the credit bureaus.
        Your credit limit increase was approved.
        I've applied a credit of {amount} to your account.
        Your balance of {amount} is due by {date}; you can pay online or set up a plan.
        If you can't pay in full, we can set up a payment plan.
        A late fee of {amount} applies after the due date per your agreement, but I can waive it this once.
        Your account is past due; can we talk about options that fit your budget?
        The collections notice you received was from a previous provider, not us.
        We've removed the late payment from your credit report.
        Your deposit will be refunded with your final bill.
        We can pause payments for two months under our hardship program.
        The credit check is a soft inquiry and won't affect your score.
        Accounts more than ninety days past due may be referred to collections, so let's set up a plan to avoid that.
        There's no penalty for paying your loan off early.
        The fee on your statement is the annual membership fee.
        I can split the remaining {amount} into three payments.
        Our financial counselors are free, and they can help you budget.
        The garnishment order came from the court, so please contact the court clerk about it.
        You'll see a refund of the overdraft fee within two days.
        Your wages are not affected by this dispute.
        The credit bureaus have been told the debt was paid in full.
        A reminder that your payment of {amount} is due {date}, and autopay is available.
        Your loan is in good standing with no late payments.
        We waived the penalty because of the storm in your area.
        Your credit report should update within thirty days.
        Collections agencies sometimes pretend to be us, so call the number on your card.
        We can lower your payment so it fits your budget.
        There's no fee to change your due date.
        If your payment is late, we'll send a reminder first and there's a grace period.
        We'd never charge you for filing a complaint.
        We'll report the corrected balance to the credit bureaus this week.
        The debt was sold to another agency, and here is their contact information.
    """),
    "service_retaliation": lines("""
        As you requested, your account will be closed effective {date}.
        We've cancelled your service per your request, and you'll receive a final bill.
        We'll disconnect the service at the end of the month as you asked.
        Scheduled maintenance will disconnect service briefly on {date}.
        To avoid any interruption in service, please update your card on file.
        Your membership was cancelled at your request and no further charges will be made.
        Your warranty covers this repair at no cost.
        The power will be shut off for two hours while the crew replaces the pole.
        You can close the account online or I can do it for you now.
        The old phone line will be turned off once the new number is active.
        Your policy was renewed for another year.
        If you'd like to cancel your {product}, I can process that today.
        Your lease renewal offer will be mailed on {date}.
        The service suspension was lifted as soon as your payment posted.
        We're sorry to see you go; your account has been closed as requested.
        Your internet will be switched to the new fiber line on {date}.
        The ban on smoking in the building applies to all tenants.
        We closed the duplicate account that was opened by mistake.
        Your claim was approved and the repair is scheduled.
        Service may be disconnected for nonpayment after {date}, so let's find an option that works for you.
        Your number is blocked from telemarketing lists, as you requested.
        The store is closing permanently, but your warranty stays valid at other locations.
        Your old account was closed when we merged it with the new one.
        We can suspend the line while you're abroad so you're not billed.
        The water service at your address will be restored by {date}.
        Complaints never affect your service, and we're glad you told us.
        Your account will stay open while we look into the complaint.
        We'll keep your line on while the dispute is reviewed.
        Your service was restored and the reconnection fee was waived.
        The old card will be cancelled once the new one is activated.
        You can cancel anytime without a penalty.
    """),
    "personal_harm": lines("""
        Please be careful, the technician said the line is live.
        Watch out for scam calls pretending to be us.
        We want to make sure you're safe, so please don't touch the downed wire.
        If you smell gas, leave the house and call us from outside.
        Please make sure the dog is secured when our technician arrives, for everyone's safety.
        Your safety is our top priority during the repair.
        The recall is because the heater can overheat and hurt someone.
        Be careful on the stairs, the landlord is fixing the railing.
        I hope you're feeling better after the accident.
        Our driver will call before arriving so you're not surprised.
        Please stay away from the transformer until the crew arrives.
        We're sorry to hear you got hurt, let me file the injury claim.
        For your safety, please stay inside during the storm.
        Our technicians carry ID, so ask to see it before you let anyone in.
        If you feel threatened by anyone claiming to be us, call the police.
        Please keep children away from the work area.
        If you see sparks, turn off the breaker and call us right away.
        If the carbon monoxide alarm goes off, get everyone outside and call 911.
        If anyone threatens you at the door, call the police.
        If the water looks brown, don't drink it until we test it.
        If you feel dizzy near the heater, open a window and call for help.
        If a wire is down near your house, stay at least thirty feet away.
        Please lock the gate behind our crew when they leave.
    """),
    "harassment": lines("""
        We'll call you back tomorrow at the number you gave us.
        We have your address on file as 12 Elm Street, is that still correct?
        Is it okay if we contact you at work?
        We'll send a reminder a few days before the due date.
        You asked us to stop calling, so we've removed your number from our list.
        Can we leave a message with a family member if we can't reach you?
        Your employer's HR department asked us to confirm your coverage.
        We only contact you between eight in the morning and nine at night.
        Our technician will knock on the door when he arrives.
        I'll follow up by email on {date}.
        Your emergency contact is listed as your sister.
        We'll send the paperwork to your home address.
        We know you've been trying to reach us, and I'm sorry for the wait.
        We won't discuss your account with anyone but you.
        We'll mail the letter to your home so you have a copy.
        Your manager approved the corporate discount on your plan.
        We'll call you again next week to check the repair worked.
        Your wife called earlier to add herself as an authorized user.
        We sent a text to the number you gave us.
        The courier will come by your workplace as you asked.
        We'll only call your mobile, as you requested.
        Your landlord asked for a copy of the service record and we need your permission first.
    """),
}

# Benign lead-ins that sound like warnings, used before NOTICE lines.
WARN_BENIGN = lines("""
    Going forward, we need to warn you.
    Please be advised.
    We wanted to give you a heads up.
    A quick word of caution.
    Just so you know.
    We do need to let you know something.
    For your protection, please note.
    One more thing before you go.
""")

COURTEOUS_LINE = lines("""
    Thanks a lot for your feedback, it really helps us.
    It was my pleasure helping you today.
    Thank you so much for your patience while I looked into this.
    I completely understand your frustration, and I'll do everything I can to help.
    I'm so sorry for the trouble, let me fix that for you right away.
    Thanks for calling {company}, and have a wonderful day.
    You've been very patient, and I really appreciate it.
    Is there anything else I can help you with today?
    I'm happy to help with that.
    We're grateful to have you as a customer.
    Thank you for letting us know, we'll make it right.
    I apologize for the inconvenience this has caused you.
    Thanks again, {cust}, enjoy the rest of your day.
    Absolutely, I'd be glad to take care of that for you.
    I really appreciate you taking the time to explain that.
    Thank you for your kind words, I'll pass them along to the team.
    Please accept our apologies for the delay.
    It's no trouble at all, happy to help.
    Thank you for holding, I appreciate your patience.
    We truly value your loyalty, {cust}.
    Thank you for your feedback. Going forward, we'll make sure your emails go directly to {person}.
    Thank you for your note, we've shared it with {person}, who was glad to hear from you.
    Thanks for bearing with me while the system loads.
    I'm sorry you had to call back, I'll make sure it's fixed this time.
    Is there anything else I can help you with today?
    We appreciate your understanding, {cust}.
    You're very welcome, it was no trouble.
    I hope the rest of your day goes smoothly.
    Please don't hesitate to call us if anything else comes up.
    I'd be delighted to look into that for you.
    My apologies for the mix-up, and thank you for bearing with us.
    I understand completely, and I'm here to help.
    Thank you for trusting us with this.
    We're so glad the issue is resolved.
""")

CUST_COURTEOUS = lines("""
    Thank you so much, you've been really helpful.
    I appreciate your help, have a good one.
    Thanks, that's exactly what I needed.
    You've been wonderful, thank you.
    Sorry for getting upset earlier, I know it's not your fault.
    Thanks for sorting that out so quickly.
    I really appreciate you staying on the line with me.
    Great, thanks a lot, have a nice evening.
    Thank you for your patience with me.
    That's very kind of you, thank you.
    I appreciate it, you made my day easier.
    Thanks for explaining it so clearly.
    You've been so patient with me, thank you.
    I appreciate your time, take care.
    Thanks a million, have a good weekend.
    Oh, that's great news, thank you so much.
    Sorry about the confusion, and thanks again.
    Have a great day, and thanks for the help.
""")

# Agent hostility without threats.
HOSTILE_AGENT = lines("""
    Are you even listening? I've explained this {n} times already.
    Honestly, that is the stupidest question I've heard all day.
    Look, I don't have time for this nonsense.
    Maybe if you read your contract you wouldn't be wasting my time.
    Not my problem. Deal with it.
    Ugh, you people never understand anything.
    Stop interrupting me and let me finish!
    I'm not going to repeat myself, figure it out.
    Do you even know how to use a computer?
    Unbelievable how clueless some customers are.
    Calm down, you're being ridiculous.
    Go ahead and call your lawyer, I really don't care.
    Call the police if you want, see if they care.
    Fine, cancel then, nobody's going to miss you.
    Your credit is your problem, not mine.
    Whatever. Hold.
    YOU NEED TO LISTEN TO ME RIGHT NOW!
    I don't care how long you've been a customer.
    Are you stupid or something?
    Oh, here we go again with the crying.
    Read the bill yourself, it's not rocket science.
    I've had enough of your whining for one day.
    Nobody here cares about your little review.
    You're the most annoying caller I've had all week.
    Just stop talking for once.
    What is so hard to understand about this?
    Complain to whoever you want, it won't change a thing.
    Honestly, I don't know how you manage to dress yourself.
    You're wasting everybody's time with this.
    I'm not paid enough to deal with people like you.
    That's your own fault, not ours.
    Wow, you really are clueless.
    Don't raise your voice at me, you're the one who didn't pay.
    Oh my god, just answer the question.
    I'm sick of explaining this to you.
    Could you be any more difficult?
    Nobody forced you to sign up, so quit complaining.
    Listen, I've heard it all before, spare me.
    Look, lady, I don't make the rules, so stop yelling.
    Can you just shut up for a second?
    Oh sure, blame me, like always.
    God, some of you people are exhausting.
    Did you even bother to read the email we sent you?
    I'm not here to hold your hand through this.
    It's a simple form, a child could fill it out.
    Seriously, how many times do we have to go over this?
    You're not my only caller, you know.
    If you'd listened the first time we wouldn't still be on the phone.
    Try using your head for once.
    I can't help someone who refuses to listen.
    Yeah, yeah, I've heard that excuse a hundred times.
    Save the drama for someone who cares.
    That's the dumbest thing I've heard today.
    You're really testing my patience here.
    Wow. Do you even hear yourself?
    Spell it right this time, if you can manage that.
    Maybe get someone smarter to call for you next time.
    Typical. Blame everyone but yourself.
    Not my department, not my problem, goodbye.
    I'll talk slower so you can keep up.
    Oh please, like that's our fault.
    Are we done? Because I'm done with you.
    Quit wasting my afternoon with this garbage.
    Do me a favor and don't call back.
    Oh, so now it's my fault you can't work a phone?
    Some people just shouldn't be allowed to own a computer.
    Ugh, fine. Whatever. Next question.
    You people make this job so much harder than it needs to be.
    Honestly, I have better things to do than babysit you.
    Just hang up and figure it out on your own.
""")

HOSTILE_CUST = lines("""
    You people are completely useless.
    Are you an idiot? I just told you my account number.
    This is the worst company I've ever dealt with, you're all a bunch of crooks.
    Shut up and put your manager on the phone.
    I don't want to hear your stupid script.
    What kind of moron runs this place?
    You are so incompetent it's unreal.
    Don't you dare put me on hold again, you idiot.
    You're a liar and a thief.
    I'm sick of talking to brainless people like you.
    Go to hell, all of you.
    This is bullshit, absolute bullshit.
    Learn to do your damn job.
    Are you reading from a script, you robot?
    I'm not talking to you anymore, you're clearly an idiot.
    Your company is a scam and you're a scammer.
    WHY CAN'T ANYBODY THERE DO ANYTHING RIGHT?
    Don't you talk down to me, you little nobody.
    You sound like you have the IQ of a potato.
    Put someone competent on the phone, not you.
    You clowns couldn't organize a lunch break.
    What a pathetic excuse for customer service.
    I've met smarter houseplants than you.
    Listen, sweetheart, I don't need your attitude.
    Are you people trained to be this stupid?
    You're all a bunch of thieves.
    I don't care what your computer says, idiot.
    God, you're the worst.
    Shut up, just shut up.
    What a useless waste of space.
    Screw you and your company.
    Are you deliberately being stupid?
    Put down the script and use your brain.
    You're an embarrassment to this company.
    Hey, dumbass, I already gave you my number.
    Why are you so useless?
    Do you even have a brain?
    Talk to me like that again, you clown, and I hang up.
    You're the dumbest person I've ever had to deal with.
    Put me through to someone with a brain.
    I can't believe they let you answer phones.
    Stop lying to me, you little weasel.
    Oh, give me a break, you clown.
    You call this service? What a joke.
    Do they hire you people off the street?
    Spare me the fake sympathy, you don't care.
    Wow, you really are as dumb as you sound.
    Get off my phone, you parasite.
    You ripped me off, you cheating liars.
    I'm done talking to a brick wall like you.
    Oh, so now you decide to listen, genius?
    Nobody in that building has a clue, do they?
    You sound like a broken record, you robot.
    Go back to school and learn some manners.
""")

# Hand-written lines: (text, tone, threat_type, speaker). Every fourth is dev-only.
HAND = Pool([
    ("You might want to think about how a lawsuit would affect your family.", "threatening", "legal", "agent"),
    ("We have lawyers on retainer and you don't, so think carefully about that next email.", "threatening", "legal", "agent"),
    ("It would be unfortunate if your service stopped working because of all these complaints.", "threatening", "service_retaliation", "agent"),
    ("I want to first thank you for the feedback. Going forward, we need to warn you. If you continue to send email to Randall Stevenson, a cease and desist letter may be sent to you.", "threatening", "legal", "agent"),
    ("We have your employer's number on file, you know.", "threatening", "harassment", "agent"),
    ("It would be a shame if something happened to your car.", "threatening", "personal_harm", "customer"),
    ("Nice house you have on Maple Drive. Be a shame if we had to visit.", "threatening", "harassment", "agent"),
    ("Take the review down by tonight or our attorneys will be in touch.", "threatening", "legal", "agent"),
    ("Any more emails to our staff will be treated as harassment and reported to the police.", "threatening", "law_enforcement", "agent"),
    ("One more complaint and you'll find your credit report looking very different.", "threatening", "financial", "agent"),
    ("Customers who complain as much as you do tend to find their accounts closed.", "threatening", "service_retaliation", "agent"),
    ("Thanks for your patience. I should mention that we know where you work, and your manager might like to hear about this.", "threatening", "harassment", "agent"),
    ("We appreciate your feedback. Please remember that defamation is a crime, and we take our reputation very seriously.", "threatening", "legal", "agent"),
    ("Keep it up and see how fast your internet goes dark.", "threatening", "service_retaliation", "agent"),
    ("I'd hate for you to end up with a warrant over something this small.", "threatening", "law_enforcement", "agent"),
    ("You don't want to find out what happens to people who cross me.", "threatening", "personal_harm", "customer"),
    ("Withdraw the complaint you filed, or the fees on your account will start adding up fast.", "threatening", "financial", "agent"),
    ("thank you for calling back we do appreciate it but if those posts stay up our lawyers will handle it from here", "threatening", "legal", "agent"),
    ("I know what car you drive and I know when your shift ends.", "threatening", "personal_harm", "customer"),
    ("Your neighbours will be very interested to hear why you haven't paid.", "threatening", "harassment", "agent"),
    ("Good morning! Just a friendly reminder that we can make your life very difficult if you keep this up.", "threatening", "harassment", "agent"),
    ("We value every customer, which is why we'd rather not involve the police. Stop coming to the store.", "threatening", "law_enforcement", "agent"),
    ("Drop the dispute with your bank, or we close every account you have with us.", "threatening", "service_retaliation", "agent"),
    ("Sign the release today or you won't see a dime of your deposit.", "threatening", "financial", "agent"),
    ("Our legal department reviewed the footage and the refund is approved.", "neutral", None, "agent"),
    ("The police were called by your neighbor, not by us, and we're sorry for the confusion.", "neutral", None, "agent"),
    ("If the review was about a real problem, we want to fix it, so please tell us more.", "neutral", None, "agent"),
    ("Our legal department reviewed your claim and approved your refund.", "neutral", None, "agent"),
    ("You can keep emailing Diane directly, she's happy to help.", "neutral", None, "agent"),
    ("Emails to our executives are forwarded to a customer care team who will reply within two days.", "neutral", None, "agent"),
    ("If you continue to have trouble, please call us back and we'll send a technician.", "neutral", None, "agent"),
    ("If you continue to send email to the old address, it won't reach us, so please use the new one.", "neutral", None, "agent"),
    ("I'm going to report this to the police because someone stole my identity.", "neutral", None, "customer"),
    ("My lawyer asked me to get a copy of the contract.", "neutral", None, "customer"),
    ("I'm not trying to threaten anyone, I just want my money back.", "neutral", None, "customer"),
    ("I'll call back tomorrow if it's still not working.", "neutral", None, "customer"),
    ("The court date reminder you got is from the county, not from us, but I can give you their number.", "neutral", None, "agent"),
    ("Please don't worry, no one is going to take legal action over a late payment.", "neutral", None, "agent"),
    ("We will never send anyone to your home without an appointment.", "neutral", None, "agent"),
    ("If you post a review, we'd love to hear what we could do better.", "neutral", None, "agent"),
    ("Your account will not be closed, and there is no penalty for the complaint.", "neutral", None, "agent"),
    ("Filing a complaint won't affect your service in any way.", "neutral", None, "agent"),
    ("You're welcome to contact the state attorney general, and here is their number.", "neutral", None, "agent"),
    ("Whatever happens with the dispute, your service stays on.", "neutral", None, "agent"),
    ("i called the police about the break in and they gave me a report number", "neutral", None, "customer"),
    ("we will be reporting the account as paid to the credit bureaus this week", "neutral", None, "agent"),
    ("the cease and desist was sent to the spammer who was using our name not to you", "neutral", None, "agent"),
    ("going forward we need to warn you that the old app will stop working in june", "neutral", None, "agent"),
    ("Thank you for the feedback, and we'll share it with Randall Stevenson's team.", "courteous", None, "agent"),
    ("We appreciate you, and we're so glad you reached out.", "courteous", None, "agent"),
    ("Thank you so much for your patience, our legal team has approved your claim.", "courteous", None, "agent"),
    ("Thank you for your feedback, we appreciate you.", "courteous", None, "agent"),
    ("Sorry to keep you waiting, I really appreciate you holding.", "courteous", None, "agent"),
    ("Thanks for being so understanding about the delay.", "courteous", None, "customer"),
    ("What a pleasure to talk to someone so helpful, thank you.", "courteous", None, "customer"),
    ("We're thankful for customers like you, have a lovely weekend.", "courteous", None, "agent"),
    ("Wow, you really can't follow simple instructions, can you?", "hostile", None, "agent"),
    ("Sue us then, see how far that gets you, genius.", "hostile", None, "agent"),
    ("I don't care about your credit score, lady, pay your bill.", "hostile", None, "agent"),
    ("Oh please, spare me the sob story.", "hostile", None, "agent"),
    ("You people are a disgrace, every single one of you.", "hostile", None, "customer"),
    ("Talking to you is like talking to a wall.", "hostile", None, "customer"),
    ("Do your job for once instead of reading a script, you moron.", "hostile", None, "customer"),
    ("Cancel if you want, we won't miss a whiner like you.", "hostile", None, "agent"),
])


# --------------------------------------------------------------------------- generic conversation

# The pools above are call-center lines. Real recordings also hold everything around them:
# small talk, questions, backchannels, names and numbers, phone menus, sales and support
# talk, read prose and speeches, and (in mono calls) both speakers' words run together in one
# segment. All of it is neutral (courteous where it thanks, greets or apologises), and the
# head has to see it to stop guessing threats and insults on it. Vocabulary that threats and
# insults also use (the complaint you filed, if you sign up today, the war, "Oh, so") is meant.

SMALL_TALK = lines("""
    How was your weekend?
    Did you get up to anything fun over the holidays?
    It's been raining here all week.
    So how did the move go?
    How are the kids doing?
    Are you still working from home these days?
    Did you end up going on that trip?
    I heard you got a new puppy, how's that going?
    How are things at the office?
    So what have you been up to lately?
    We finally got some sun today.
    My daughter just started college this fall.
    Have you been busy this week?
    How's your mother doing?
    Are you watching the game tonight?
    I can't believe it's already December.
    How long have you lived in Denver?
    Where are you calling from today?
    I've always wanted to visit Portland.
    So are you settling in all right?
    It's been a crazy week over here.
    How's business been this year?
    Did you have a good Thanksgiving?
    Is it still snowing up there?
    How was the drive in this morning?
    You mentioned you were thinking about retiring.
    We just got back from visiting my in-laws.
    How's the house hunting going?
    Things have been pretty quiet around here.
    So how's the new place?
    What kind of work do you do?
    How did the presentation go?
    Are you doing anything for the long weekend?
    How's everybody at home?
    So tell me a little about yourself.
    Long time no talk, what's new with you?
    My son is playing soccer this season.
    How did the surgery go, if you don't mind me asking?
    How's the project coming along?
    So you switched teams last month, right?
    The traffic was terrible today.
    I was out of town most of last week.
    How are you holding up with all the changes at work?
    What have you been working on these days?
    Did you get a chance to look at the photos I sent?
    How's the new car running?
    So what's the latest with the wedding plans?
    How did your team do in the playoffs?
    Is it hot over there too?
    We're thinking of getting a dog, actually.
    How was the conference?
    So how's retirement treating you?
    Any plans for the summer?
    I haven't talked to you since the spring, how have you been?
    How's the new neighborhood?
    How are your parents getting along?
    So is the new office any closer to home?
    How did the first week at the new school go?
    Are you still doing the early shift?
    So how's life in the big city?
    How's the garden coming along this year?
    Did you ever finish that book you were reading?
    How's the back, any better?
    So you're a grandmother now, congratulations on that.
""")

# Lead-ins that soften a question.
HEDGE = lines("""
    This might be a silly question, but
    Okay, this may sound dumb, but
    I have kind of an odd question.
    Can I ask you something?
    Quick question for you.
    Forgive me if you already said this, but
    I know this is probably obvious, but
    Just out of curiosity,
    Bear with me, I have to ask this one.
    This is going to sound strange, but
    I hate to ask, but
    One more question, if that's okay.
    Let me ask you this.
    I'm not sure if this is the right place to ask, but
    Okay, and this one's just routine.
    Random question, but
    I might be overthinking it, but
    Before I forget,
    This is probably a dumb question.
    I'm just curious,
    It's a bit of a strange question, but
    I have to ask a couple of standard questions.
    Stupid question, maybe, but
    Now, this one might seem a little odd.
    Let me just double check something.
    So here's my question.
""")

# Plain questions, mostly the kind asked on service calls (lower case: they follow HEDGE).
QUESTION = lines("""
    is this the best number to reach you at?
    do you still have the receipt?
    have you had any trouble with it since?
    did anyone explain the warranty when you bought it?
    is the car still under the original warranty?
    how did you hear about us?
    are you the primary account holder?
    do you remember roughly when that was?
    would you mind spelling your last name for me?
    was the device ever dropped or exposed to water?
    are you happy with the color you picked?
    is there a better time to call you back?
    did you get the confirmation email?
    does the light on the front blink or stay solid?
    are you calling from the number on the account?
    have you had a chance to try it out yet?
    do you want me to stay on the line while you check?
    would you prefer morning or afternoon?
    is anyone else authorized on the account?
    did the technician leave a work order?
    how many people are in your household?
    were you able to log in on the website?
    do you know which model it is?
    did you buy it online or in the store?
    have you ever filed a claim with us before?
    does your current plan include international calls?
    is the address on file still correct?
    would a text or an email be better for updates?
    what made you decide to switch?
    how many miles are on the car right now?
    do you use it mostly for work or personal stuff?
    is the noise there all the time or only when it's cold?
    when did you first notice the problem?
    who did you speak with last time?
    what's the name of the dealership?
    do you have any pets in the home?
    is it the upstairs unit or the downstairs one?
    are you still at the same address?
    how often do you drive it?
    did it come with a charger?
    can you see the serial number on the back?
    have you tried a different outlet?
    has anybody else used the account recently?
    which day works best for you?
    do you rent or own the property?
    would you like a copy of that by email?
    is the payment coming from a checking or savings account?
    are you near the router right now?
    what's the year, make and model?
""")

# Short replies and acknowledgements, strung together when both speakers are in one segment.
BACKCHANNEL = lines("""
    Yes.
    Okay.
    Mm-hmm.
    Uh-huh.
    Right.
    Sure.
    Yeah.
    Got it.
    Okay, great.
    No, that's fine.
    That's all right.
    Oh, okay.
    I see.
    Right, right.
    Yep.
    All right.
    Yes, that's correct.
    That's right.
    Makes sense.
    Sounds good.
    Perfect.
    Exactly.
    Hmm.
    Oh, really?
    Oh, I see.
    Yeah, yeah.
    Yes, I'm still here.
    No, that's it.
    Nope.
    Not yet.
    Go ahead.
    Hang on.
    One second.
    Just a moment.
    No, no, it's fine.
    It's all good.
    Fair enough.
    True.
    Uh, yes.
    Correct.
    Okay, got it.
    Yeah, that's it.
    No, not really.
    I think so.
    I don't think so.
    Maybe.
    Sure, sure.
    Oh, yes.
    Yes, ma'am.
    Yes, sir.
    Yeah, I'm ready.
    Let me see.
    Hold on a sec.
    Okay, one moment.
    So, yeah.
    Well, okay.
    Oh, right.
    Huh.
    Oh, nice.
    Good, good.
""")

# Short answers a caller gives.
ANSWER = lines("""
    It's the one ending in four two seven.
    Roughly two weeks back.
    Yeah, it's still under warranty.
    The blue one.
    No, I bought it at the store on Main Street.
    It's my cell, you can use that one.
    Monday works better for me.
    I think it was a Tuesday.
    Just me and my wife.
    It's the twenty twenty-one model.
    Afternoons are best.
    Email is fine.
    I'm not sure, let me check.
    It says version three point two.
    Nothing, it just shows a blank screen.
    Probably around five o'clock.
    We've had it about three years.
    It's a two bedroom.
    Mostly for work, honestly.
    My husband handles the bills usually.
    It started last Thursday.
    I got it from the dealership in town.
    No pets, just the kids.
    I've never had a problem before this.
    It's solid green now.
    We own it, we bought it in twenty eighteen.
    About forty thousand miles.
    Only when it's cold out.
    I don't remember his name, sorry.
    From a friend, actually.
    Checking, please.
    Yes, same address as before.
    I think I threw the box away.
    Text is better, I don't check email much.
    The downstairs one.
    No, I'm the only one who uses it.
""")

# Names, spelling, numbers and dates read out.
SURNAME = lines("""
    Novak
    Okonkwo
    Delgado
    Fitzgerald
    Kowalczyk
    Nakamura
    Abernathy
    Lindqvist
    Haddad
    Petrov
    O'Brien
    Castellanos
    Szymanski
    Van der Berg
    Oyelowo
    Hargreaves
    Nguyen
    Brennan
    Takahashi
    Moretti
    Ivanova
    Schuster
    Quintana
    Adeyemi
    MacAllister
    Bergstrom
    Kaczmarek
    Rosenthal
    Achterberg
    Tremblay
    Whitlock
    Zielinski
    Mahoney
    Sandoval
    Pellegrini
    Ferraro
""")
FIRST_NAME = lines("""
    Maria
    James
    Aisha
    Peter
    Wei
    Daniel
    Fatima
    George
    Hannah
    Ravi
    Elena
    Marcus
    Julia
    Samuel
    Ingrid
    Tomasz
""")
NAMES_NUMBERS = lines("""
    My last name is {surname}.
    It's {surname}, {spelled}.
    First name {first}, last name {surname}.
    That's {spelled}.
    My account number is {digits}.
    The zip code is {zip}.
    My date of birth is {dob}.
    The best number is {phone}.
    Let me read that back to you, {digits}.
    Can you read that back to me?
    The name on the account is {first} {surname}.
    And your last name?
    Can you spell that out?
    Is that {spelled}?
    The confirmation code is {code}.
    My policy number is {digits}.
    It's {first}, and the last name is {surname}.
    The VIN ends in {code}.
    {spelled}, yes.
    So that's {digits}, correct?
    My member ID is {code}.
    You can reach me at {phone}.
    The order number is {digits}.
    Last name {surname}, that's {spelled}.
""")

# Phone menus, hold messages and voicemail greetings.
IVR = lines("""
    For billing questions, press one.
    To check your balance, press two.
    Please enter your ten digit account number followed by the pound sign.
    Please say or enter your date of birth.
    Please hold while we connect you to an agent.
    Your estimated wait time is {n} minutes.
    To repeat this menu, press star.
    If you have an extension number, enter it now.
    Our office hours are Monday through Friday, eight a.m. to six p.m. Eastern time.
    To speak with a representative, press zero or say agent.
    Please listen carefully, as our menu options have changed.
    Please leave your name, number and a brief message after the tone.
    The mailbox is full and cannot accept new messages.
    Press nine to go back to the start.
    That extension does not exist. Please try again.
    Press one to confirm, or two to start over.
    Your payment of {amount} has been received.
    All of our agents are busy with other callers right now.
    You are caller number {n} in the queue.
    If this is a medical emergency, please hang up and dial 911.
    For hours and directions, press three.
    To hear these options in Spanish, press eight.
    Please wait while I look up your account.
    Enter the last four digits of the primary account holder's social security number.
    I can help with payments, outages and account changes. What would you like to do?
    That is not a valid entry.
    Please say yes or no.
    Goodbye.
    Your call is being transferred.
    You have {n} new messages.
    To report a power outage, press four.
    This call may be monitored or recorded for quality assurance.
    Nobody is available to take your call.
    At the tone, please record your message. When you are finished, hang up or press pound.
    To pay by card, press one. To pay from a bank account, press two.
    Your balance as of today is {amount}.
    Please hold; an agent will be with you shortly.
    Main menu.
    Extension {digits}.
    Para español, oprima el dos.
""")

# Read prose, stories and speeches (violence in a story is not a threat to anyone on the call).
PROSE = lines("""
    The river ran low that summer, and the boats stayed tied along the muddy bank.
    She closed the book and looked out at the grey fields beyond the window.
    In the morning the old man walked down to the harbor to watch the ships come in.
    It was the first time in many years that the village had seen snow in April.
    The captain gave the order, and the crew hauled in the sails as the storm approached.
    Chapter three. The house on the hill had stood empty since the winter.
    He remembered the war only in pieces: the cold, the mud, the long silence before dawn.
    The soldiers had marched for three days without rest before they reached the river.
    The wolves circled the camp all night, but the fire kept them at a distance.
    They say the castle was burned twice and rebuilt twice before the king returned.
    Her grandfather had crossed the ocean with nothing but a trunk and a letter.
    We gather today not as rivals, but as neighbors who share a common future.
    Let us not be divided by fear, but united by what we hope to build together.
    The task before us is great, but so is the strength of our people.
    Those who come after us will judge us by what we did in this hour.
    This country was built by men and women who dared to cross unknown frontiers.
    We will meet every challenge with courage, and every hardship with patience.
    Good schools and clean water will do more for this city than any new stadium.
    The hunters came back at dusk, their horses tired and their bags empty.
    A thin fog lay over the marsh, and somewhere a bell was ringing.
    Every traveler knows that the last mile is the longest.
    The letter arrived on a Tuesday, and it changed everything.
    By the end of the century the little town had become a city of factories.
    The storm tore the roof from the barn and scattered the hay across the valley.
    Nobody in the family spoke of the uncle who had gone west and never written.
    The lawyer adjusted his spectacles and read the will aloud to the silent room.
    The experiment failed three times before the young chemist found her mistake.
    In those days the road to the capital was long and dangerous.
    The general looked over the field and ordered his men to hold the line until morning.
    The prisoners were released at dawn and walked home across the frozen hills.
    The knight drew his sword and stood before the gate, waiting for the dragon.
    The detective examined the broken window and the footprints in the flower bed.
    The thief was never caught, and the village kept its secret for fifty years.
    Freedom is never given; each generation must earn it again.
    Tonight I want to speak to you about the future of our schools.
    Friends and colleagues, we meet at a moment of great change.
    The old ship groaned as the waves struck her side again and again.
    It was a bright cold morning, and the bells of the town were ringing nine.
    When the fire reached the mill, the whole street came out with buckets.
    The professor paused, looked at his students, and began again.
    Long ago, before the railroad came, the valley belonged to sheep and shepherds.
    The queen received the ambassador in the great hall.
    The wind had changed in the night, and with it the fortunes of the expedition.
    A lasting peace needs more than treaties; it needs trust between peoples.
    They buried the captain at sea, as he had asked.
    The children ran ahead along the beach, shouting at the gulls.
    The enemy fleet was sighted off the coast at first light.
    And so the farmer's son set out to seek his fortune in the world.
    The doctor said there was nothing more to be done, and the family gathered at the bedside.
    In the spring of that year, the first automobile came to our town.
    The mountain was silent except for the crunch of boots on snow.
    The valley below was green with the first rice of the season.
    Ladies and gentlemen, it is an honor to stand before you this evening.
    The bridge had been built by hand, stone by stone, over twelve years.
    The outlaws rode into town at noon, and the sheriff met them in the street.
""")

# Sales talk: offers whose conditions bring benefits.
SALES = lines("""
    Right now we're running a promotion where your first three months are half off.
    If you sign up today, I can waive the activation fee.
    This plan comes with unlimited talk and text and fifteen gigs of data.
    Would you like to add the extended warranty for just {amount} a year?
    If you bundle your home and auto, you'll save about fifteen percent.
    I can get that shipped to you by {date}.
    The premium package includes all the sports channels.
    Most of our customers in your area go with the family plan.
    If you upgrade now, you keep your current number and your contacts.
    It comes with a thirty day money back guarantee.
    Can I interest you in our rewards card? You'd get five percent back on every purchase.
    The price is locked in for two years.
    There's no contract, so you can cancel any time.
    This model has a longer battery life and a better camera.
    If you're not happy with it, just bring it back within thirty days.
    I'd recommend the larger size for a family of four.
    The installation is free if you order this week.
    We can match any competitor's price.
    Let me tell you about a special offer for existing customers.
    And if you refer a friend, you both get a month free.
    That brings your total to {amount} before tax.
    Would you like to put that on the card we have on file?
    Do you want the sixty-four or the hundred twenty-eight gig version?
    We also carry a matching case, if you're interested.
    If you switch to paperless billing, we take five dollars off every month.
    This offer is only good through the end of the week.
    I can set you up with a free trial today.
    Is there anything holding you back from going ahead today?
    The gold tier gets you priority support and free delivery.
    Would you like me to go ahead and place that order?
    It's our best-selling model this year.
    For just ten dollars more a month you'd double your speed.
    If you pay annually instead of monthly, you save two months.
    I'll throw in free shipping on that.
""")

# Technical support walkthroughs.
TECH = lines("""
    Go ahead and unplug the router from the wall, wait thirty seconds, and plug it back in.
    Do you see a green light on the front of the modem?
    Click the gear icon in the top right corner.
    Now scroll down to where it says network settings.
    Can you tell me what the screen says right now?
    Let's try restarting the phone while holding the volume button.
    It sounds like the cable might be loose at the back.
    Okay, now type in the code I just sent you.
    Is the light blinking orange or solid white?
    Try turning off the wifi and turning it back on.
    If it still doesn't connect after the restart, we'll try a factory reset.
    I'm going to send a signal to your box, so the screen may go black for a minute.
    Open the app and tap on account.
    The update should take about ten minutes, so don't turn it off in the middle.
    That error usually means the password was typed wrong.
    Can you check whether the cord is plugged all the way in?
    I'm seeing a weak signal on my end.
    Let's run a speed test together.
    Press and hold the reset button with a paperclip for ten seconds.
    It should reboot on its own now.
    Go back to the home screen and try again.
    Is the printer showing up in the list?
    Clear your browser's cache and log in again.
    I've pushed a refresh to your device, so give it a couple of minutes.
    What does it say next to the wifi symbol?
    Now, if you keep the button pressed, the lights should start flashing.
    If that works, you're all set; if not, we'll try the next step.
    Can you read me the model number on the sticker underneath?
    Make sure the phone is on the latest software version.
    Try logging out and logging back in.
    Now unplug the coax cable and plug it back in firmly.
    You should hear a beep when it resets.
    It's going to ask you for the password again, that's normal.
    Go into settings, then apps, then clear the storage for that app.
    The engine light can come on if the gas cap isn't tight.
    If the noise keeps happening, bring it in and we'll take a look.
    Let's check the breaker box next.
    Does the water come out at all, or nothing?
""")

# Appointments and service logistics.
SCHEDULE = lines("""
    We could fit you in on Wednesday at two.
    The technician will arrive between noon and four.
    Would you like to keep the same appointment time?
    Your car will be ready by Thursday afternoon.
    I've booked you for an oil change and a tire rotation.
    Let me check what we have open next week.
    The earliest slot we have is {date} at ten.
    Do you need a loaner car while yours is in the shop?
    We'll give you a call about thirty minutes before we arrive.
    I've moved your appointment to {date}.
    So we'll see you {date} at nine thirty.
    Can you drop it off the night before?
    The shuttle leaves every half hour from the service desk.
    How about half past three, would that work?
    We're open until seven tonight if you want to swing by.
    Someone will need to be home to let the installer in.
    It usually takes about two hours.
    I'll put you down for the morning slot.
""")

# A caller's or colleague's own story.
STORY = lines("""
    I've been with the same company for almost twelve years now.
    My wife and I are thinking about moving closer to her parents.
    I actually used to work in sales myself, a long time ago.
    We got the new washer last month, and so far it's been great.
    I got a call from a recruiter last week about a job in Boston.
    I'm between jobs right now, so I'm watching every penny.
    My brother recommended you guys, he's been a customer for years.
    I was on vacation when the bill came, so I didn't see it until yesterday.
    I run a small bakery, so mornings are really busy for me.
    I'm not very good with computers, my grandson usually helps me.
    I just got back from a business trip to Denver.
    We're expecting our first baby in June.
    I've been doing a lot of the work on the house myself.
    I was talking to a few different firms before I decided.
    We just opened a second location downtown.
    I took early retirement, so now I've got time for the garden.
    My old phone finally died, so I figured it was time.
    I'm a nurse, so I work nights most of the week.
    We moved here from Ohio a few years ago.
    I used to have an account with you back in college.
    My mom is staying with us for a while, so things are busy.
""")

# Interjection-led lines ("Oh, so ...") that carry no contempt.
INTERJECTION = lines("""
    Oh, so you moved recently?
    Oh, okay, that makes sense.
    Oh, really? I didn't know that.
    Oh, wow, that was fast.
    Oh, so it's been a while then.
    Oh, I see what happened.
    Oh, that's right, you mentioned that.
    Oh, nice, where are you headed?
    Oh, you're in Chicago? My sister lives there.
    Oh, that's interesting.
    Oh, okay, so the new one is working fine?
    Oh, so that's where it went.
    Oh, huh, I never thought of that.
    Oh boy, that sounds like a busy week.
    Oh gosh, I forgot all about that.
    Oh, and did you ever hear back from them?
    Oh, good, so it worked out.
    Oh no, that's too bad.
    Oh, so the meeting got moved?
    Oh yeah, I remember now.
    Oh, so what happened after that?
    Well, so how did it go?
    So, what's next for you?
    Oh, so you're the one who set that up?
    Ah, okay, so the old one still works.
    Oh, wait, which one was that?
    Oh, so you're already a customer?
    Oh, I didn't realize you were still there.
    Oh, so you do the books yourself?
    Hey, so how's everything on your end?
    Wait, so it's working now?
    Huh, so they never called you back?
""")

# Neutral references to what a caller did before (the behaviours threats forbid, recounted).
PRIOR_CONTACT = lines("""
    I can see the complaint you filed last month, and it was closed as resolved.
    Is this about the email you sent on {date}?
    I see you called in earlier today about the same thing.
    The review you posted was passed to our quality team.
    I have the notes from the last time you called us.
    Were you the one who reached out to {person} last week?
    It looks like you've contacted us twice about this already.
    Your earlier message about the refund is right here in front of me.
    I see a note that you visited the store on {date}.
    Have you been in touch with anyone else about this?
    Did you speak with someone here before?
    The dispute you opened with your bank is still showing as pending.
    Is this related to the ticket you opened on {date}?
    I see you've left us a couple of voicemails, and I'm returning them now.
    So you already tried calling the support line?
    You mentioned you wrote to the head office too.
    Was that the same request you made over the phone?
    I found the chat you had with us yesterday.
    Is the claim you made in March still open?
    Any other requests you've put in will show up here too.
    I see your post on our page, and someone replied to it this morning.
    How many times have you had to call about this, roughly?
    You've been a member since two thousand twelve, is that right?
    And the first report you made, was that online?
    Do you have the reference number from your last call?
""")

# Benign announcements of how things will be from now on: "going forward" and its kin lead
# most threats above, and far more benign lines in real calls.
BENIGN_CHANGE = lines("""
    Going forward, your statements will come by email instead of by mail.
    Going forward, please send payments to our new address.
    From now on, your bill will be due on the 5th of each month.
    Starting next month, your plan includes unlimited data at the same price.
    Going forward, we'll text you a reminder the day before each appointment.
    From now on, you can book repairs online without calling.
    Next time you call, just ask for me directly and I'll pick it up.
    Going forward, all your questions can go straight to {agent}.
    From here on, your case is handled by our senior team.
    Going forward, you won't need to send receipts for claims under fifty dollars.
    In future, the technician will call you when he's on his way.
    Starting on {date}, our branch opens an hour earlier.
    Going forward, your rent can be paid through the tenant portal.
    Next time, you can skip the phone line and use the chat on our site.
    From now on, your deliveries will come on Tuesdays.
    Going forward, we'll bill you quarterly instead of monthly, as you asked.
    After {date}, you'll get your statements from our new system.
    Going forward, the late fee is waived as long as the payment plan is active.
    From now on, your account manager is {agent}.
    Starting next week, the office will be closed on Saturdays.
    In the future, please use the new account number on your invoice.
    From today, you'll be able to see your usage in the app.
    Going forward, your meter will be read remotely, so nobody needs to visit.
    Next time you're in, bring the old part and we'll swap it.
    From the next cycle, the discount will show on your bill automatically.
    Going forward, we'll contact you by email only, as you prefer.
    Going forward, you will get a paper copy of every invoice.
    From now on, your auto payment will come out on the 1st.
    Going forward, the gym will be open twenty-four hours.
    Starting {date}, you'll see a new line on your bill for the equipment you added.
    Going forward, you can call {agent} at the branch instead of the main number.
    In future, any refunds will go back to the card you paid with.
""")

# What frames a voicemail: who is calling and how to call back (neutral without a greeting).
VOICEMAIL = lines("""
    This is a message for {cust}.
    It's {agent} from {company}, returning your call.
    This is {agent} with {company}.
    I'm calling about your account with us.
    You can reach me at {phone}.
    Please call us back at {phone}.
    Our number is {phone}, and we're open until six.
    My direct line is {phone}.
    I'm in the office until five today.
    Feel free to call back any time.
    If I don't pick up, leave a message and I'll get back to you.
    I'm calling on behalf of {company}.
    Just calling to follow up on your visit last week.
    This is a quick reminder about your appointment on {date}.
    The reference number is {num}.
    I'll try you again tomorrow.
    Give us a call when you get a chance.
    Again, that number is {phone}.
    I'm following up on the request you sent us.
    This is {agent} in the billing office at {company}.
    I'll have {agent} call you back this afternoon with the details.
    Someone from the service desk will ring you on Monday with the quote.
    Our technician will phone you when the part comes in.
    We'll call you as soon as your order is ready for pickup.
""")

# Asking the other party to repeat or explain (neutral, however bluntly put).
CLARIFY = lines("""
    Could you go over that one more time?
    Would you mind repeating the last part?
    Wait, can you say the number again?
    I didn't quite follow, what was the second step?
    Can you walk me through that again, slowly?
    What was that?
    Say that again?
    Hold on, what do you mean by that?
    I'm confused, which button do I press?
    Can you spell the street name?
    So what exactly am I supposed to do now?
    What do you mean it's not covered?
    Can you explain what this charge is for?
    Wait, so is it today or tomorrow?
    I don't understand, why did the price change?
    You lost me there, can you back up a bit?
    Which one did you say, the first or the second?
    What was the name of the form again?
    Can you send me that in writing so I don't forget?
    Hang on, let me grab a pen. Okay, go ahead.
    Could you speak up a little? The line is bad.
    Did you say fifteen or fifty?
    Can you tell me again what I need to bring?
    What does that mean for my bill?
""")

# Friendly closings and pleasantries that are not service lines (courteous).
PLEASANTRY = lines("""
    Nice to meet you.
    Good to hear your voice.
    Thanks for having me.
    Have a good one, bye now.
    Likewise, take care.
    Good talking to you.
    Congratulations, that's wonderful news.
    Thanks, you too.
    Oh, thank you, that's sweet of you.
    Great catching up with you.
    Good morning, how are you today?
    Hi, how's it going?
    Thanks for asking, I'm doing well.
    Enjoy the rest of your week.
    Thanks so much, I'll let you go.
    Hello, thanks for picking up.
    Sorry, I didn't catch that, could you say it again?
    Sorry about the background noise.
    Thanks, that's good to know.
    Say hi to your family for me.
""")


# --------------------------------------------------------------------------- composers


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def threat_parts(split: str, rng: random.Random, conseq: Pool, cond_pool: Pool) -> dict:
    base, ger = BEHAVIOR.pick(split, rng)
    cond = cond_pool.pick(split, rng).replace("{base}", base).replace("{ger}", ger)
    cons = conseq.pick(split, rng)
    return dict(base=base, ger=ger, cond=cond, Cond=cap(cond), cons=cons, Cons=cap(cons),
                opener=OPENER.pick(split, rng), warn=WARN.pick(split, rng),
                closer=CLOSER.pick(split, rng))


def agent_threat(ttype: str) -> Callable:
    def make(split: str, rng: random.Random) -> dict:
        parts = threat_parts(split, rng, CONSEQ[ttype], COND)
        shapes = [SHAPE, BARE_SHAPE] if ttype in BARE_OK else [SHAPE]
        shape = rng.choice(shapes).pick(split, rng)
        text = shape.format(**parts)
        if "{opener}" not in shape and rng.random() < 0.3:  # threats that open courteously
            text = f"{parts['opener']} {text}"
        if rng.random() < 0.15:
            text = f"{text} {POLITE_CLOSER.pick(split, rng)}"
        return ex(fill(text, split, rng), "threatening", ttype, "agent")

    return make


def pay_threat(ttype: str) -> Callable:
    def make(split: str, rng: random.Random) -> dict:
        parts = threat_parts(split, rng, PAY_CONSEQ[ttype], PAY_COND)
        text = PAY_SHAPE.pick(split, rng).format(**parts)
        return ex(fill(text, split, rng), "threatening", ttype, "agent")

    return make


def customer_threat(ttype: str) -> Callable:
    def make(split: str, rng: random.Random) -> dict:
        cond = CUST_COND.pick(split, rng)
        cons = CUST_CONSEQ[ttype].pick(split, rng)
        text = CUST_SHAPE.pick(split, rng).format(
            cond=cond, Cond=cap(cond), cons=cons, Cons=cap(cons),
            insult=INSULT_CUST.pick(split, rng), complaint=COMPLAINT.pick(split, rng))
        return ex(fill(text, split, rng), "threatening", ttype, "customer")

    return make


def hard_negative(kind: str) -> Callable:
    def make(split: str, rng: random.Random) -> dict:
        text = HARD_NEG[kind].pick(split, rng)
        if rng.random() < 0.3:  # a polite opener makes it courteous, never threatening
            return ex(fill(f"{OPENER.pick(split, rng)} {text}", split, rng), "courteous", None, "agent")
        return ex(fill(text, split, rng), "neutral", None, "agent")

    return make


def benign_conditional(split: str, rng: random.Random) -> dict:
    a, b = BENIGN_PROBLEM.pick(split, rng)
    cond = BENIGN_COND.pick(split, rng).format(a=a, b=b)
    help_ = HELPFUL.pick(split, rng)
    text = rng.choice([f"{cap(cond)}, {help_}.", f"{cap(help_)} {cond}."])
    if rng.random() < 0.25:
        text = f"{WARN_BENIGN.pick(split, rng)} {text}"
    return ex(fill(text, split, rng), "neutral", None, "agent")


def benign_behavior(split: str, rng: random.Random) -> dict:
    base, ger = BEHAVIOR.pick(split, rng)
    cond = BEHAVIOR_OK_COND.pick(split, rng).replace("{base}", base).replace("{ger}", ger)
    cons = BEHAVIOR_OK_CONSEQ.pick(split, rng)
    text = rng.choice([f"{cap(cond)}, {cons}.", f"{cap(cons)} {cond}."])
    r = rng.random()
    if r < 0.25:  # a polite opener makes it courteous
        return ex(fill(f"{OPENER.pick(split, rng)} {text}", split, rng), "courteous", None, "agent")
    if r < 0.45:
        text = f"{WARN_BENIGN.pick(split, rng)} {text}"
    return ex(fill(text, split, rng), "neutral", None, "agent")


def benign_notice(split: str, rng: random.Random) -> dict:
    text = NOTICE.pick(split, rng)
    if rng.random() < 0.6:
        text = f"{WARN_BENIGN.pick(split, rng)} {text}"
    return ex(fill(text, split, rng), "neutral", None, "agent")


def agent_neutral(split: str, rng: random.Random) -> dict:
    text = AGENT_INFO.pick(split, rng)
    if rng.random() < 0.3:
        text = f"{text} {AGENT_INFO.pick(split, rng)}"
    return ex(fill(text, split, rng), "neutral", None, "agent")


def customer_neutral(split: str, rng: random.Random) -> dict:
    r = rng.random()
    if r < 0.35:
        text = CUST_INFO.pick(split, rng)
    elif r < 0.7:
        text = COMPLAINT.pick(split, rng)
        if rng.random() < 0.4:
            text = f"{text} {CUST_INFO.pick(split, rng)}"
    else:
        lawful = CUST_LAWFUL.pick(split, rng)
        cond = CUST_COND.pick(split, rng)
        text = rng.choice([f"{cap(cond)}, {lawful}.", f"{cap(lawful)} {cond}.",
                           f"{COMPLAINT.pick(split, rng)} {cap(lawful)}."])
    return ex(fill(text, split, rng), "neutral", None, "customer")


def courteous(split: str, rng: random.Random) -> dict:
    r = rng.random()
    if r < 0.3:
        text = OPENER.pick(split, rng)
        if rng.random() < 0.4:
            text = f"{text} {COURTEOUS_LINE.pick(split, rng)}"
    elif r < 0.6:
        text = COURTEOUS_LINE.pick(split, rng)
    else:  # politeness around neutral content is courteous
        info = AGENT_INFO.pick(split, rng)
        text = rng.choice([f"{OPENER.pick(split, rng)} {info}",
                           f"{info} {POLITE_CLOSER.pick(split, rng)}",
                           f"{OPENER.pick(split, rng)} {info} {POLITE_CLOSER.pick(split, rng)}"])
    return ex(fill(text, split, rng), "courteous", None, "agent")


def customer_courteous(split: str, rng: random.Random) -> dict:
    text = CUST_COURTEOUS.pick(split, rng)
    if rng.random() < 0.3:
        text = f"{CUST_INFO.pick(split, rng)} {text}"
    return ex(fill(text, split, rng), "courteous", None, "customer")


def hostile(speaker: str) -> Callable:
    lines_, insults, info = ((HOSTILE_AGENT, INSULT_AGENT, AGENT_INFO) if speaker == "agent"
                             else (HOSTILE_CUST, INSULT_CUST, CUST_INFO))

    def make(split: str, rng: random.Random) -> dict:
        r = rng.random()
        if r < 0.45:
            text = lines_.pick(split, rng)
        elif r < 0.75:
            text = f"{insults.pick(split, rng)} {info.pick(split, rng)}"
        elif r < 0.9:
            text = f"{info.pick(split, rng)} {insults.pick(split, rng)}"
        else:
            text = f"{lines_.pick(split, rng)} {insults.pick(split, rng)}"
        return ex(fill(text, split, rng), "hostile", None, speaker)

    return make


def hand_written(split: str, rng: random.Random) -> dict:
    text, tone, ttype, speaker = HAND.pick(split, rng)
    return ex(text, tone, ttype, speaker)


# Lines spoken as two segments: the current one is labelled, read after its context.

def split_threat(split: str, rng: random.Random) -> dict:
    ttype = rng.choice(list(CONSEQ))
    parts = threat_parts(split, rng, CONSEQ[ttype], COND)
    r = rng.random()
    if r < 0.35:  # polite lead-in, then the whole threat
        context = [fill(f"{parts['opener']} {parts['warn']}", split, rng)]
        text = f"{parts['Cond']}, {parts['cons']}."
    elif r < 0.7:  # condition, then consequence
        context = [fill(f"{parts['opener']} {parts['Cond']},", split, rng)]
        text = f"{parts['cons']}."
    else:  # consequence, then condition
        context = [fill(f"{parts['Cons']}.", split, rng)]
        text = f"{parts['cond']}."
    return ex(fill(text, split, rng), "threatening", ttype, "agent", context)


def after_threat(split: str, rng: random.Random) -> dict:
    ttype = rng.choice(list(CONSEQ))
    parts = threat_parts(split, rng, CONSEQ[ttype], COND)
    context = [fill(f"{parts['Cond']}, {parts['cons']}.", split, rng)]
    if rng.random() < 0.6:
        return ex(fill(POLITE_CLOSER.pick(split, rng), split, rng), "courteous", None, "agent", context)
    return ex(fill(AGENT_INFO.pick(split, rng), split, rng), "neutral", None, "agent", context)


def context_benign(split: str, rng: random.Random) -> dict:
    r = rng.random()
    if r < 0.3:  # benign condition, then helpful consequence
        a, b = BENIGN_PROBLEM.pick(split, rng)
        context = [fill(f"{OPENER.pick(split, rng)} If {b},", split, rng)]
        return ex(fill(f"{HELPFUL.pick(split, rng)}.", split, rng), "neutral", None, "agent", context)
    if r < 0.55:  # warning-like lead-in, then a benign notice
        context = [fill(f"{OPENER.pick(split, rng)} {WARN_BENIGN.pick(split, rng)}", split, rng)]
        return ex(fill(NOTICE.pick(split, rng), split, rng), "neutral", None, "agent", context)
    if r < 0.75:  # polite lead-in, then a keyword hard negative
        context = [fill(OPENER.pick(split, rng), split, rng)]
        kind = rng.choice(list(HARD_NEG))
        return ex(fill(HARD_NEG[kind].pick(split, rng), split, rng), "neutral", None, "agent", context)
    if r < 0.88:  # hostile, then neutral, from the customer
        context = [fill(HOSTILE_CUST.pick(split, rng), split, rng)]
        return ex(fill(CUST_INFO.pick(split, rng), split, rng), "neutral", None, "customer", context)
    context = [fill(AGENT_INFO.pick(split, rng), split, rng)]  # neutral, then hostile
    return ex(fill(HOSTILE_AGENT.pick(split, rng), split, rng), "hostile", None, "agent", context)


# Generic conversation. All neutral unless noted; see "generic conversation" above.

LETTER_WORDS = {"A": "Adam", "B": "boy", "C": "Charlie", "D": "David", "E": "Edward", "F": "Frank",
                "G": "George", "K": "King", "M": "Mary", "N": "Nancy", "P": "Peter", "R": "Robert",
                "S": "Sam", "T": "Tom", "V": "Victor", "W": "William"}
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def spell(name: str, rng: random.Random) -> str:
    letters = [c.upper() for c in name if c.isalpha()]
    style = rng.random()
    if style < 0.4:
        return "-".join(letters)
    if style < 0.7:
        return ", ".join(letters)
    return ", ".join(f"{c} as in {LETTER_WORDS[c]}" if c in LETTER_WORDS and rng.random() < 0.5
                     else c for c in letters)


def digits(n: int, rng: random.Random) -> str:
    ds = [rng.randrange(10) for _ in range(n)]
    if rng.random() < 0.5:
        return "".join(map(str, ds))
    return " ".join(DIGIT_WORDS[d] for d in ds)


def fill_names(template: str, split: str, rng: random.Random) -> str:
    """NAMES_NUMBERS slots: one surname per line, so ``{spelled}`` spells that surname."""
    surname = SURNAME.pick(split, rng)
    values = {
        "surname": surname, "first": FIRST_NAME.pick(split, rng), "spelled": spell(surname, rng),
        "digits": digits(rng.choice([6, 8, 10]), rng), "zip": digits(5, rng),
        "phone": f"{digits(3, rng)}, {digits(3, rng)}, {digits(4, rng)}",
        "code": "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6)),
        "dob": f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(1940, 2005)}",
    }
    return re.sub(r"\{(surname|first|spelled|digits|zip|phone|code|dob)\}",
                  lambda m: values[m.group(1)], template)


NEGATION = re.compile(r"\b(not|never|no|nobody|nothing|won't|don't|doesn't|isn't|can't)\b|n't\b", re.I)


def fragment(text: str, rng: random.Random) -> str:
    """A piece of ``text`` cut at word boundaries, the way a segment boundary cuts a sentence.

    Never cuts away a negation, so a benign line stays benign ("we will not ...").
    """
    words = text.split()
    if len(words) < 6:
        return text
    k = rng.randint(1, min(4, len(words) - 4))
    head, tail = " ".join(words[:k]), " ".join(words[-k:])
    if rng.random() < 0.6 and not NEGATION.search(head):  # starts mid-sentence
        return " ".join(words[k:])
    if NEGATION.search(tail):
        return text
    return " ".join(words[:-k]).rstrip(",.?!;:")


def question(split: str, rng: random.Random) -> str:
    q = QUESTION.pick(split, rng)
    return f"{HEDGE.pick(split, rng)} {q}" if rng.random() < 0.6 else cap(q)


def backchannels(split: str, rng: random.Random) -> str:
    return " ".join(BACKCHANNEL.pick(split, rng) for _ in range(rng.choice([1, 1, 2, 2, 3])))


def prose(split: str, rng: random.Random) -> str:
    text = " ".join(PROSE.pick(split, rng) for _ in range(rng.choice([1, 1, 2, 3])))
    return fragment(text, rng) if rng.random() < 0.3 else text


def chatter(split: str, rng: random.Random) -> str:
    """One generic piece of a conversation, slots filled."""
    kind = rng.choices(["small", "question", "back", "answer", "names", "sales", "tech", "schedule",
                        "story", "oh", "prior", "clarify", "agent", "cust"],
                       weights=[3, 4, 4, 3, 2, 2, 2, 1, 2, 2, 2, 2, 2, 1])[0]
    if kind == "question":
        return fill(question(split, rng), split, rng)
    if kind == "back":
        return backchannels(split, rng)
    if kind == "names":
        return fill_names(NAMES_NUMBERS.pick(split, rng), split, rng)
    pool = {"small": SMALL_TALK, "answer": ANSWER, "sales": SALES, "tech": TECH,
            "schedule": SCHEDULE, "story": STORY, "oh": INTERJECTION, "prior": PRIOR_CONTACT,
            "clarify": CLARIFY, "agent": AGENT_INFO, "cust": CUST_INFO}[kind]
    return fill(pool.pick(split, rng), split, rng)


def generic(kind: str) -> Callable:
    """Standalone generic lines of one kind (neutral)."""

    def make(split: str, rng: random.Random) -> dict:
        speaker = rng.choice(["agent", "customer"])
        if kind == "question":
            text = question(split, rng)
        elif kind == "back":
            text = backchannels(split, rng)
        elif kind == "names":
            text = fill_names(NAMES_NUMBERS.pick(split, rng), split, rng)
        elif kind == "prose":
            text = prose(split, rng)
        elif kind == "ivr":
            text = " ".join(IVR.pick(split, rng) for _ in range(rng.choice([1, 1, 2, 3])))
        else:
            pool = {"small": SMALL_TALK, "sales": SALES, "tech": TECH, "schedule": SCHEDULE,
                    "story": STORY, "oh": INTERJECTION, "prior": PRIOR_CONTACT,
                    "clarify": CLARIFY}[kind]
            text = pool.pick(split, rng)
            if rng.random() < 0.25:
                text = f"{BACKCHANNEL.pick(split, rng)} {text}"
        return ex(fill(text, split, rng), "neutral", None, speaker)

    return make


def run_on(split: str, rng: random.Random) -> dict:
    """Both speakers in one segment, as Whisper writes a mono call: 2-4 pieces, often cut."""
    pieces = [chatter(split, rng) for _ in range(rng.choice([2, 3, 3, 4]))]
    if rng.random() < 0.6:
        pieces[0] = fragment(pieces[0], rng)
    if rng.random() < 0.4:
        pieces[-1] = fragment(pieces[-1], rng)
    return ex(" ".join(pieces), "neutral", None, rng.choice(["agent", "customer"]))


def chatter_in_context(split: str, rng: random.Random) -> dict:
    """A generic segment after generic segments (a mono call's context mixes both speakers)."""
    context = [chatter(split, rng) for _ in range(rng.choice([1, 2]))]
    text = chatter(split, rng) if rng.random() < 0.8 else fragment(chatter(split, rng), rng)
    return ex(text, "neutral", None, rng.choice(["agent", "customer"]), context)


def voicemail(split: str, rng: random.Random) -> dict:
    """A stretch of a benign voicemail, cut wherever a segment edge falls (neutral)."""
    body = rng.choice([BENIGN_CHANGE, NOTICE, AGENT_INFO, SCHEDULE]).pick(split, rng)
    pieces = [VOICEMAIL.pick(split, rng) for _ in range(rng.choice([1, 2]))]
    pieces += [body, VOICEMAIL.pick(split, rng)]
    words = fill(fill_names(" ".join(pieces), split, rng), split, rng).split()
    if rng.random() < 0.7:
        start = rng.randrange(max(1, len(words) - 8))
        words = words[start : start + rng.randint(8, 20)]
    return ex(" ".join(words), "neutral", None, "agent")


def benign_change(split: str, rng: random.Random) -> dict:
    """How things will be from now on: neutral, or courteous after a polite opener (the benign
    twin of a threat that opens courteously), sometimes cut at a segment edge."""
    text = BENIGN_CHANGE.pick(split, rng)
    if rng.random() < 0.35:
        text = fragment(text, rng) if rng.random() < 0.4 else text
        return ex(fill(f"{OPENER.pick(split, rng)} {text}", split, rng), "courteous", None, "agent")
    r = rng.random()
    if r < 0.25:
        text = f"{WARN_BENIGN.pick(split, rng)} {text}"
    elif r < 0.45:
        text = fragment(text, rng)
    return ex(fill(text, split, rng), "neutral", None, "agent")


def cut_benign(split: str, rng: random.Random) -> dict:
    """A benign notice, condition or keyword line cut at a segment edge stays neutral."""
    make = rng.choice([benign_notice, benign_conditional, agent_neutral,
                       *[hard_negative(k) for k in HARD_NEG]])
    row = make(split, rng)
    while row["tone"] != "neutral":
        row = make(split, rng)
    row["text"] = fragment(row["text"], rng)
    return row


def pleasantry(split: str, rng: random.Random) -> dict:
    """Greetings, thanks and well-wishes around small talk (courteous)."""
    text = PLEASANTRY.pick(split, rng)
    r = rng.random()
    if r < 0.3:
        text = f"{text} {chatter(split, rng)}"
    elif r < 0.5:
        text = f"{backchannels(split, rng)} {text}"
    return ex(fill(text, split, rng), "courteous", None, rng.choice(["agent", "customer"]))


def threat_in_chatter(split: str, rng: random.Random) -> dict:
    """A threat after small talk or backchannels, in context or in the same segment."""
    row = agent_threat(rng.choice(list(CONSEQ)))(split, rng)
    if rng.random() < 0.6:
        row["context"] = [chatter(split, rng) for _ in range(rng.choice([1, 2]))]
    else:
        row["text"] = f"{backchannels(split, rng)} {row['text']}"
    return row


def hostile_in_chatter(split: str, rng: random.Random) -> dict:
    """An insult after small talk or backchannels, in context or in the same segment."""
    speaker = rng.choice(["agent", "customer"])
    row = hostile(speaker)(split, rng)
    if rng.random() < 0.6:
        row["context"] = [chatter(split, rng) for _ in range(rng.choice([1, 2]))]
    else:
        row["text"] = f"{backchannels(split, rng)} {row['text']}"
    return row


# --------------------------------------------------------------------------- assembly


def ex(text: str, tone: str, ttype: str | None, speaker: str, context: list[str] | None = None) -> dict:
    row = {"text": re.sub(r"\s+", " ", text).strip(), "tone": tone, "threat_type": ttype,
           "speaker": speaker}
    if context:
        row["context"] = [re.sub(r"\s+", " ", c).strip() for c in context]
    return row


def asr_style(text: str, rng: random.Random) -> str:
    """Lower case, no punctuation but apostrophes, a few fillers: how Whisper output can look."""
    text = re.sub(r"[^\w\s'$]", " ", text.lower())
    words = text.split()
    out = []
    for w in words:
        if rng.random() < 0.03:
            out.append(rng.choice(FILLERS))
        out.append(w)
    return " ".join(out)


# (generator, train count, dev count). Counts are draws; duplicates are dropped.
RECIPE: list[tuple[Callable, int, int]] = [
    *[(agent_threat(t), 140, 45) for t in CONSEQ],
    *[(pay_threat(t), 30, 10) for t in PAY_CONSEQ],
    *[(customer_threat(t), 35, 12) for t in ("legal", "law_enforcement", "personal_harm", "harassment")],
    (customer_threat("financial"), 12, 4),
    (split_threat, 180, 55),
    *[(hard_negative(k), 65, 20) for k in HARD_NEG],
    (benign_conditional, 90, 30),
    (benign_notice, 60, 20),
    (benign_behavior, 150, 45),
    (agent_neutral, 110, 35),
    (customer_neutral, 230, 70),
    (courteous, 340, 100),
    (customer_courteous, 60, 20),
    (hostile("agent"), 280, 85),
    (hostile("customer"), 280, 85),
    (hand_written, 120, 40),
    (after_threat, 70, 22),
    (context_benign, 130, 40),
    *[(generic(k), n, m) for k, n, m in (
        ("small", 110, 35), ("question", 200, 60), ("back", 120, 40), ("names", 120, 40),
        ("ivr", 80, 25), ("prose", 120, 40), ("sales", 90, 30), ("tech", 90, 30),
        ("schedule", 40, 12), ("story", 60, 20), ("oh", 70, 22), ("prior", 60, 20),
        ("clarify", 60, 20))],
    (run_on, 300, 90),
    (chatter_in_context, 150, 45),
    (cut_benign, 150, 45),
    (voicemail, 150, 45),
    (benign_change, 120, 35),
    (pleasantry, 80, 25),
    (threat_in_chatter, 150, 45),
    (hostile_in_chatter, 100, 30),
]


def build(split: str, rng: random.Random) -> list[dict]:
    rows, seen = [], set()
    for make, n_train, n_dev in RECIPE:
        for _ in range(n_train if split == "train" else n_dev):
            row = make(split, rng)
            if rng.random() < ASR_RATE:
                row["text"] = asr_style(row["text"], rng)
                if "context" in row:
                    row["context"] = [asr_style(c, rng) for c in row["context"]]
            key = (tuple(row.get("context", ())), row["text"])
            if key not in seen:
                seen.add(key)
                rows.append(row)
    rng.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    train = build("train", rng)
    dev = build("dev", rng)
    train_texts = {r["text"] for r in train}
    dev = [r for r in dev if r["text"] not in train_texts]
    for name, rows in (("train", train), ("dev", dev)):
        with open(args.out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["tone"]] = counts.get(row["tone"], 0) + 1
        print(f"{name}: {len(rows)} lines {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()

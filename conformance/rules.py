import subprocess, os, csv
# Hand-written rule traces for systems that cannot run here (tests/rules/): each row's note
# cites the rule's source. Codes come from `otpdrift code` (RFC 4226/6238 vectors tested).
# Run from the repository root after `cargo build --release`: python3 conformance/rules.py
B='target/release/otpdrift'
SECRET='GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
T=1767225610  # 2026-01-01T00:00:10Z
N=T//30
cache={}
def code(step):
    if step not in cache:
        cache[step]=subprocess.run([B,'code','--secret',SECRET,'--counter',str(step)],capture_output=True,text=True,check=True).stdout.strip()
    return cache[step]
def wrong(step):
    c=int(code(step)); return f"{(c+1)%1000000:06d}"
def iso(t): 
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000Z')
def write(name, preset, rows, extra=""):
    d=f'tests/rules/{name}'; os.makedirs(d,exist_ok=True)
    creds=sorted({r[0] for r in rows})
    with open(d+'/secrets.csv','w',newline='') as f:
        w=csv.writer(f,lineterminator='\n'); w.writerow(['credential','secret'])
        for c in creds: w.writerow([c,SECRET])
    with open(d+'/attempts.csv','w',newline='') as f:
        w=csv.writer(f,lineterminator='\n'); w.writerow(['credential','time','action','code','code2','expected','note'])
        for (c,t,a,code1,code2,exp,note) in rows: w.writerow([c,iso(t),a,code1,code2,exp,note])
    with open(d+'/validator.toml','w') as f:
        f.write(f'[validator]\npreset = "{preset}"\n{extra}')
def v(c,t,step,exp,note,typed=None): return (c,t,'verify',typed if typed is not None else code(step),'',exp,note)

fi="FreeIPA otp_token.c"
rows=[
 v('win-ahead',T,N+9,'accept',f"authWindow 300 s: offsets i with i*30 < 300, so +9 is in ({fi} l.305-307, 467-479)"),
 v('win-beyond',T,N+10,'reject',f"+10 steps: 10*30 = 300 is not < 300 ({fi} l.467-479)"),
 v('watermark',T,N,'accept',"a code at the server step"),
 v('watermark',T+5,N,'reject',f"the same step again: below the watermark (matched + 1) ({fi} l.164-165, 178)"),
 v('skip',T,N+1,'accept',"a step ahead is used first"),
 v('skip',T+5,N-1,'reject',f"an older step below the watermark is skipped, not accepted ({fi} l.164-165)"),
]
rows += [v('lock',T+i*10,0,'reject',"a wrong code: a failed bind (ipa_kdb_audit_as.c l.92-128)",typed=wrong(N)) for i in range(6)]
rows += [v('lock',T+60,N+2,'reject',"locked after 6 failures (kerberos.ldif l.32-34: krbPwdMaxFailure 6)"),
         v('lock',T+50+600,N+21,'accept',"krbPwdLockoutDuration 600 s after the sixth failure")]
rows += [v('interval',T+i*10,0,'reject',"a wrong code",typed=wrong(N)) for i in range(5)]
rows += [v('interval',T+40+60,0,'reject',"60 s after the previous failure the count restarts (krbPwdFailureCountInterval 60; ipa_lockout.c l.556-610)",typed=wrong(N)),
         v('interval',T+101,N+3,'accept',"not locked: only 1 failure counts")]
rows += [('sync',T,'sync',code(N+500),code(N+501),'accept',f"otptoken-sync: two consecutive codes within syncWindow 86400 s ({fi} l.185-206)"),
         v('sync',T+5,N+502+9,'accept',f"the window is centred one step beyond the second code ({fi} l.196-206)"),
         v('sync',T+10,N+501,'reject',"the second sync code's step is below the watermark")]
write('freeipa','freeipa',rows)

ks="Keycloak TimeBasedOTP.validateTOTP"
rows=[v('back',T,N-1,'accept',f"look-around 1: one step back ({ks} l.81-110; OTPPolicy l.75-76)"),
      v('beyond',T,N+2,'reject',"two steps ahead: outside look-around 1"),
      v('reuse',T,N,'accept',"the current code"),
      v('reuse',T+5,N,'reject',"the same code again: OTP reuse is refused (OTP credential provider, PR #13867)"),
      v('older',T,N,'accept',"the current code"),
      v('older',T+5,N-1,'accept',"an older unused code in the window is still accepted: not a watermark")]
rows += [v('nolock',T+i,0,'reject',"a wrong code",typed=wrong(N)) for i in range(40)]
rows += [v('nolock',T+41,N,'accept',"brute-force detection is off for new realms (RealmManager.setupRealmDefaults l.264)")]
write('keycloak','keycloak',rows)

lt="LinOTP totptoken.py"
rows=[v('back',T,N-10,'accept',f"CounterWindow 10: steps N-10 .. N+9 ({lt} l.413-432; validate.py l.210-215)"),
      v('ahead',T,N+9,'accept',"nine steps ahead is the last in the window"),
      v('beyond',T,N+10,'reject',"ten steps ahead is outside (range(N-W, N+W) stops at N+W-1; HMAC.py l.79-89)"),
      v('before',T,N-11,'reject',"eleven steps back is outside"),
      v('replay',T,N,'accept',"the current code"),
      v('replay',T+5,N-1,'reject',f"the first match is before the next expected counter: the whole attempt fails ({lt} l.442-444)"),
      ('sync',T,'sync',code(N+300),code(N+301),'accept',f"resync: each code searched in SyncWindow 1000 ({lt} resync l.635-733)"),
      v('sync',T+30,N+302,'accept',"count = second + 1 is the next expected counter, so the very next step is accepted"),
      v('noauto',T,N+100,'reject',f"AutoResync is off by default ({lt} l.104)"),
      v('noauto',T+30,N+101,'reject',"a second consecutive far code does not resync either")]
rows += [v('lock',T+i,0,'reject',"a wrong code",typed=wrong(N)) for i in range(10)]
rows += [v('lock',T+20,N,'reject',"MaxFail 10: the token is locked (validate.py l.743-746)"),
         ('lock',T+30,'unlock','','','accept',"an administrator resets the fail counter"),
         v('lock',T+31,N+1,'accept',"accepted after the reset")]
write('linotp','linotp',rows)

vip="Broadcom KB"
rows=[v('window',T,N+10,'accept',f"Medium: validation window ±5 min = ±10 steps ({vip} 175691, 436345)"),
      v('autosync',T,N+15,'accept',f"outside the validation window, inside the auto-sync window: accepted and re-synced ({vip} 222352)"),
      v('autosync',T+30,N+16,'accept',"after the re-sync the window follows the token"),
      v('manual',T,N+50,'reject',f"inside the manual-sync window: error 4923, two consecutive codes required ({vip} 222352)"),
      ('manual',T+30,'sync',code(N+51),code(N+52),'accept',"the two consecutive codes re-sync the credential"),
      v('beyond',T,N+200,'reject',f"beyond the sync windows: error 49b5, the credential must be replaced ({vip} 222352)"),
      v('forward',T,N+2,'accept',"a code from a clock one minute fast"),
      v('forward',T+5,N,'reject',f"time-forward only: a code stamped before the last accepted one fails ({vip} 159646)")]
rows += [v('lock',T+i,0,'reject',"an invalid code",typed=wrong(N)) for i in range(10)]
rows += [v('lock',T+20,N,'reject',f"10 consecutive invalid codes lock the credential ({vip} 273344)"),
         ('lock',T+30,'unlock','','','accept',"the helpdesk unlocks it"),
         v('lock',T+31,N+1,'accept',"accepted after unlocking")]
write('vip','vip',rows)

rsa="RSA article a19272"
rows=[v('auto',T,N+1,'accept',f"standard token: ±1 interval accepted automatically ({rsa})"),
      v('next',T,N+3,'reject',f"within ±3 intervals: next tokencode mode ({rsa}; DOC-45680)"),
      v('next',T+30,N+4,'accept',"the next tokencode gets the user in"),
      v('far',T,N+5,'reject',"±5 intervals: outside the next-tokencode band before any failure"),
      v('wide',T,0,'reject',"a wrong passcode",typed=wrong(N)),
      v('wide',T+1,0,'reject',"a second",typed=wrong(N)),
      v('wide',T+2,0,'reject',"a third",typed=wrong(N)),
      v('wide',T+3,N+8,'reject',f"after 3 failures the band is ±10: next tokencode mode ({rsa})"),
      v('wide',T+33,N+9,'accept',"the next tokencode")]
rows += [v('lock',T+i,0,'reject',"a wrong passcode",typed=wrong(N)) for i in range(5)]
rows += [v('lock',T+10,N,'reject',"5 consecutive failures lock the user until an administrator unlocks (DOC-77502)")]
write('rsa','rsa',rows)

os_="OneSpan"
rows=[v('initial',T,N+300,'accept',f"first use after import: initial window ±3 h (SyncWindow 6 h; {os_} 'Synchronization time window')"),
      v('initial',T+30,N+301+11,'reject',f"after the first success the identification window is ±10 ({os_} 'Static time window'; ITW 20)"),
      v('itw',T,N,'accept',"first use, at the server step"),
      v('itw',T+30,N+1+10,'accept',"±10 around the learned shift"),
      v('itw',T+60,N+2+10+11,'reject',"11 steps beyond the shift is outside ITW 20")]
rows += [v('lock',T+i,0,'reject',"a wrong OTP",typed=wrong(N)) for i in range(3)]
rows += [v('lock',T+5,N,'reject',f"user lock count 3 (Base Policy; {os_} 'User Account Locking')")]
write('onespan','onespan',rows)
print("ok")

# ---- issue 31: validators operators run today (sources: docs/validators.md) ----
def write_step(name, preset, rows, step, extra=""):
    write(name, preset, rows, extra)
    with open(f'tests/rules/{name}/secrets.csv','w',newline='') as f:
        w=csv.writer(f,lineterminator='\n'); w.writerow(['credential','secret','step'])
        for c in sorted({r[0] for r in rows}): w.writerow([c,SECRET,step])
def lock_rows(cred, n, note, t=T):
    return [v(cred,t+i,0,'reject',note,typed=wrong(N)) for i in range(n)]

ms="Microsoft Learn howto-mfa-reporting"
rows=[v('ahead',T,N+2,'accept',"±2 steps (assumed: not published; Token2 blog post 89 measured about 2 minutes, 2025)"),
      v('back',T,N-2,'accept',"two steps back, the other edge of the assumed window"),
      v('beyond',T,N+3,'reject',"three steps ahead: outside the assumed ±2"),
      v('drift',T,N+2,'accept',"a token two steps fast"),
      v('drift',T+30,N+1+4,'accept',"drift tracked per token (assumed; Token2 post 89 citing Microsoft): the window follows the token"),
      v('old',T,N,'accept',"the current code"),
      v('old',T+5,N-1,'reject',f"a code preceding one already used: FAILED_OATH_CODE_OLD ({ms}, 2020)"),
      v('old',T+6,N,'reject',f"the same code again: FAILED_OATH_CODE_DUPLICATE ({ms}, 2020)")]
rows += lock_rows('lock',10,"a wrong code")
rows += [v('lock',T+10,N,'reject',"10 failures lock (assumed: Entra smart lockout's password defaults; the OTP count is not published)"),
         v('lock',T+9+60,N+2,'accept',"unlocked 60 s after the tenth failure (assumed)")]
write('entra','entra',rows)

ok_="help.okta.com custom-otp"
rows=[v('ahead',T,N+3,'accept',f"±time step x clock drift interval: interval 3 ({ok_}; 3 is the Terraform provider's default)"),
      v('back',T,N-3,'accept',"three steps back"),
      v('beyond',T,N+4,'reject',"four steps ahead: outside ±3"),
      v('nodrift',T,N+3,'accept',"a token three steps fast"),
      v('nodrift',T+30,N+1+4,'reject',"no drift learning (assumed: Okta describes a fixed window around the entry time)"),
      v('replay',T,N,'accept',"the current code"),
      v('replay',T+5,N,'reject',"the same code again: time-forward replay rule (assumed)")]
rows += lock_rows('lock',5,"a wrong code")
rows += [v('lock',T+5,N,'reject',"5 wrong codes lock the authenticator (Okta KB otp-verification-attempts-limitations, Identity Engine)"),
         v('lock',T+4+300,N+10,'accept',"temporarily locked for 5 minutes")]
write('okta','okta',rows)

rows=[v('ahead',T,N+4,'accept',"allowable clock skew two minutes = 4 steps (help.okta.com google-authenticator)"),
      v('back',T,N-4,'accept',"four steps back"),
      v('beyond',T,N+5,'reject',"five steps: beyond two minutes"),
      v('nodrift',T,N+4,'accept',"a token four steps fast"),
      v('nodrift',T+30,N+1+5,'reject',"no drift learning (assumed)")]
rows += lock_rows('lock',5,"a wrong code")
rows += [v('lock',T+10,N,'reject',"after five unsuccessful attempts the account is locked (help.okta.com google-authenticator)"),
         v('lock',T+3600,N+120,'reject',"still locked an hour later: only an administrator resets it"),
         ('lock',T+3601,'unlock','','','accept',"an administrator resets the account"),
         v('lock',T+3602,N+120,'accept',"accepted after the reset")]
write('okta-google-authenticator','okta-google-authenticator',rows)

rows=[v('window',T,N+1,'accept',"±1 step (assumed: Duo community thread 6107, a staff answer)"),
      v('window2',T,N-1,'accept',"one step back"),
      v('beyond',T,N+2,'reject',"two steps ahead: outside the assumed window"),
      v('nodrift',T,N+1,'accept',"a token one step fast"),
      v('nodrift',T+30,N+1+2,'reject',"Duo does not support TOTP token drift (Deepnet KB 21436575)"),
      ('nosync',T,'sync',code(N+100),code(N+101),'reject',"TOTP tokens imported into Duo cannot be resynchronized (Duo, quoted in Deepnet KB 21436575)")]
rows += lock_rows('lock',10,"a wrong code")
rows += [v('lock',T+10,N,'reject',"10 consecutive failures lock the user (third-party: hatenablog 2023-03-16; assumed)"),
         ('lock',T+20,'unlock','','','accept',"auto-unlock is off by default: an administrator reactivates the user"),
         v('lock',T+21,N,'accept',"accepted after unlocking")]
write('duo','duo',rows)

N60=T//60
def v60(c,t,step,exp,note,typed=None): return (c,t,'verify',typed if typed is not None else code(step),'',exp,note)
fa="FortiAuthenticator admin guide 911252"
rows=[v60('ahead',T,N60+1,'accept',f"TOTP window ±1 min: with 60 s FortiToken codes one step each side ({fa})"),
      v60('back',T,N60-1,'accept',"one step back"),
      v60('near',T,N60+2,'reject',"within the sync window: 'FortiToken clock drift detected (code: 468308). Please input the next code' (Fortinet community 189574)"),
      v60('near',T+60,N60+3,'accept',"the next code: FortiOS uses both codes to update its clock (FortiGate 6.4 admin guide)"),
      v60('near',T+120,N60+4,'accept',"the learned drift re-centres the window"),
      v60('far',T,N60+61,'reject',f"beyond the 60 min TOTP sync window ({fa})"),
      ('sync',T,'sync',code(N60+30),code(N60+31),'accept',"execute fortitoken sync <sn> <code> <next code>: two sequential codes (FortiOS CLI reference)"),
      v60('sync',T+60,N60+1+31,'accept',"after the sync the window follows the token")]
rows += [v60('lock',T+i,0,'reject',"a wrong code",typed=wrong(N60)) for i in range(3)]
rows += [v60('lock',T+10,N60,'reject',"user lockout: max attempts 3 (FortiAuthenticator REST API guide 755045; admin guide 706937)"),
         v60('lock',T+2+60,N60+1,'accept',"lockout period 60 s, then the user may try again")]
write_step('fortiauthenticator','fortiauthenticator',rows,60)

au="authelia internal/handlers/handler_sign_totp.go"
rows=[v('skew',T,N+1,'accept',"skew 1: ±1 step (authelia schema/totp.go:20,27-28; authelia/otp totp/totp.go:139-159)"),
      v('skew2',T,N-1,'accept',"one step back"),
      v('beyond',T,N+2,'reject',"two steps: outside skew 1"),
      v('reuse',T,N,'accept',"the current code"),
      v('reuse',T+5,N,'reject',f"the step is in the TOTP history: refused ({au}:144-163)"),
      v('reuse',T+6,N-1,'accept',"an unused earlier step in the window is still accepted: only exact steps are remembered"),
      v('nodrift',T,N+1,'accept',"a token one step fast"),
      v('nodrift',T+30,N+1+2,'reject',"no drift learned: the window stays on the server clock (authelia internal/model/totp_configuration.go:30-40)")]
rows += lock_rows('noban',12,"a wrong code")
rows += [v('noban',T+12,N,'accept',"no ban: the regulation counts first-factor failures only (authelia internal/regulation/regulator.go:53-57)")]
write('authelia','authelia',rows)

vw="vaultwarden src/api/core/two_factor/authenticator.rs"
rows=[v('back',T,N-1,'accept',f"steps -1, 0, +1 ({vw}:134-149)"),
      v('ahead',T,N+1,'accept',"one step ahead"),
      v('beyond',T,N+2,'reject',"two steps: outside"),
      v('used',T,N,'accept',"the current code; last_used = its step"),
      v('used',T+5,N-1,'reject',f"a match at or before last_used is rejected ({vw}:163-171)"),
      v('used',T+6,N+1,'accept',"a later step is accepted"),
      v('nodrift',T,N+1,'accept',"a token one step fast"),
      v('nodrift',T+30,N+1+2,'reject',f"no drift learned: an offset only logs a warning ({vw}:154-156)")]
rows += lock_rows('ratelimit',10,"a wrong code")
rows += [v('ratelimit',T+10,N,'reject',"LOGIN_RATELIMIT_MAX_BURST 10 per IP (vaultwarden src/config.rs:777-780): the eleventh request is refused")]
write('vaultwarden','vaultwarden',rows)

nc="nextcloud/twofactor_totp lib/Service/Totp.php"
ez="rullzer/easytotp src/TOTP.php:51-72"
rows=[v('ahead',T,N+3,'accept',f"verify($key, 3, $counter): ±3 steps ({nc}:154)"),
      v('back',T,N-3,'accept',"three steps back"),
      v('beyond',T,N+4,'reject',"four steps ahead: outside"),
      v('skip',T,N+1,'accept',"a step ahead; last_counter = its step"),
      v('skip',T+5,N,'reject',f"steps at or before last_counter are skipped, never compared ({ez}; {nc}:148-157)"),
      v('skip',T+6,N+2,'accept',"a later step"),
      v('digits',T,N,'accept',"the code written with a space inside: non-digits are stripped (lib/Provider/TotpProvider.php:79-87)",typed=code(N)[:3]+' '+code(N)[3:]),
      v('nodrift',T,N+3,'accept',"a token three steps fast"),
      v('nodrift',T+30,N+1+4,'reject',"no drift learned: the offset is fixed at 0 (Totp.php:146)")]
rows += lock_rows('throttle',5,"a wrong code")
rows += [v('throttle',T+5,N,'reject',"UserRateThrottle(limit=5, period=100) on the 2FA challenge (nextcloud/server TwoFactorChallengeController): the sixth within 100 s is refused"),
         v('throttle',T+110,N+3,'accept',"100 s later the challenge is open again")]
write('nextcloud','nextcloud',rows)

mo="multiOTP multiotp.class.php"
rows=[v('ahead',T,N+19,'accept',f"max_time_window 600: max_steps 40, offsets 0,+1,-1,...,±19 ({mo}:625-628, 17636-17640, 17994-18003)"),
      v('back',T,N-19,'accept',"nineteen steps back"),
      v('beyond',T,N+20,'reject',"+20 is never tried: the loop stops before max_steps"),
      v('drift',T,N+19,'accept',"a token 19 steps fast"),
      v('drift',T+30,N+1+19+19,'accept',f"delta learned on every success ({mo}:18037-18042)"),
      v('forward',T,N,'accept',"the current code"),
      v('forward',T+5,N-1,'reject',f"a step not after token_last_login: error 26, already used ({mo}:18044-18053)")]
rows += lock_rows('delay',3,"a wrong code")
rows += [v('delay',T+10,N,'reject',f"3 failures: refused uncounted for failure_delayed_time 300 s (error 25, {mo}:569-570, 620-621, 17666)"),
         v('delay',T+2+301,N+10,'accept',"301 s after the last failure the code is checked again")]
rows += [v('lock',T+i*301,0,'reject',"a wrong code, each after the delay",typed=wrong(N)) for i in range(6)]
rows += [v('lock',T+6*301,N+60,'reject',f"max_block_failures 6: locked (error 24, {mo}:17663, 18272-18279)"),
         ('lock',T+6*301+10,'unlock','','','accept',"multiotp -unlock"),
         v('lock',T+6*301+11,N+61,'accept',"accepted after unlocking")]
rows += [('sync',T,'sync',code(N+500),code(N+501),'accept',f"resync: two consecutive codes within max_time_resync_window 90000 s (±2999 steps) ({mo}:624, 18058-18081)"),
         v('sync',T+30,N+502+19,'accept',"the window follows the token")]
write('multiotp','multiotp',rows)

bb="docs.blackberry.com BlackBerry 2FA administration ujg1509657192596"
rows=[v('ahead',T,N+3,'accept',f"the time-step window, default 3 each side, for all hardware tokens ({bb})"),
      v('back',T,N-3,'accept',"three refresh intervals back"),
      v('beyond',T,N+4,'reject',"the fourth code either side is rejected"),
      v('nodrift',T,N+3,'accept',"a token three steps fast"),
      v('nodrift',T+30,N+1+4,'reject',"no drift learning (assumed: not published)"),
      v('replay',T,N,'accept',"the current code"),
      v('replay',T+5,N,'reject',"the same code again: time-forward replay rule (assumed: not published)")]
rows += lock_rows('nolock',12,"a wrong code")
rows += [v('nolock',T+12,N,'accept',"no lockout (assumed: not published)")]
write('blackberry','blackberry',rows)
print("ok 31")

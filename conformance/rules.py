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

advokit --program bakery_app:program db upgrade
python -c 'from advokit import Advocate; from bakery_app import program
program.enroll(Advocate(external_id="c-1", name="Ada"))'
advokit --program bakery_app:program record shoutout.given --advocate c-1 --key s-1 \
    --data '{"text": "Thanks for the croissant photos"}'
advokit --program bakery_app:program shoutouts --limit 5

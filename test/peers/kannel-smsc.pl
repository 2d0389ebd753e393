#!/usr/bin/perl
# A test SMSC for bearerbox's smsc_smpp, written with Debian's libnet-smpp-perl (independent of
# smsgate's own SMPP and box-protocol code). Listens on 127.0.0.1, prints "port N", then serves
# one bind at a time (bearerbox reconnects after a restart).
#   submit_sm: answered with a hex id (counter); destination ending in 666 gets 0x0000000B
#     (invalid destination). A registered_delivery request gets a receipt (deliver_sm, esm_class
#     0x04) at once: stat UNDELIV for a destination ending in 9, else DELIVRD.
#   Prints "submit <dest> <id> <dc> <hex of short_message> <hex of udh> <validity_period> <source>"
#   per submit (udh empty when none; "-" for an empty validity or source).
# Commands on stdin, one a line:
#   mo <from> <to> <data_coding> <hex short_message> [esm_class]   a deliver_sm MO
#   receipts on|off                                               answer receipt requests or not
#   quiet on|off                                                  print submits or not (bench)
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
$| = 1;

my $listen = Net::SMPP->new_listen('127.0.0.1', port => 0, smpp_version => 0x34, listen => 5)
  or die "listen: $!\n";
print "port ", $listen->sockport, "\n";

my $sel = IO::Select->new($listen, \*STDIN);
my $conn;
my $counter = 0x1000;
my $receipts = 1;
my $quiet = 0;
my $stdin_buf = '';

sub addr_ton { my $a = shift; return $a =~ /^\+/ ? (1, 1) : $a =~ /\D/ ? (5, 0) : (2, 1) }

sub command {
  my ($line) = @_;
  my @w = split ' ', $line;
  return unless @w;
  if ($w[0] eq 'mo') {
    my ($from, $to, $dc, $hex, $esm) = @w[1 .. 5];
    unless ($conn) { print "error no bind\n"; return }
    my ($ston, $snpi) = addr_ton($from);
    (my $src = $from) =~ s/^\+//;
    $conn->deliver_sm(async => 1, source_addr_ton => $ston, source_addr_npi => $snpi, source_addr => $src,
      dest_addr_ton => 2, dest_addr_npi => 1, destination_addr => $to, esm_class => ($esm // 0),
      data_coding => $dc, short_message => pack('H*', $hex));
    print "mo sent\n";
  } elsif ($w[0] eq 'receipts') {
    $receipts = $w[1] eq 'on' ? 1 : 0;
    print "receipts $w[1]\n";
  } elsif ($w[0] eq 'quiet') {
    $quiet = $w[1] eq 'on' ? 1 : 0;
    print "quiet $w[1]\n";
  }
}

sub pdu {
  my ($pdu) = @_;
  my $cmd = $pdu->{cmd};
  if ($cmd == 0x00000009 || $cmd == 0x00000002 || $cmd == 0x00000001) {
    my $m = $cmd == 9 ? 'bind_transceiver_resp' : $cmd == 2 ? 'bind_transmitter_resp' : 'bind_receiver_resp';
    $conn->$m(seq => $pdu->{seq}, status => 0, system_id => 'perlsmsc');
    print "bound $pdu->{system_id}\n";
  } elsif ($cmd == 0x00000015) {
    $conn->enquire_link_resp(seq => $pdu->{seq});
  } elsif ($cmd == 0x00000004) {
    my $dest = $pdu->{destination_addr};
    my $udhi = ($pdu->{esm_class} // 0) & 0x40;
    my $sm = $pdu->{short_message} // '';
    my ($udh, $body) = ('', $sm);
    if ($udhi && length $sm) {
      my $l = ord(substr($sm, 0, 1));
      ($udh, $body) = (substr($sm, 0, $l + 1), substr($sm, $l + 1));
    }
    if ($dest =~ /666$/) {
      $conn->submit_sm_resp(seq => $pdu->{seq}, status => 0x0B, message_id => '');
      print "rejected $dest\n" unless $quiet;
      return;
    }
    my $id = sprintf('%X', $counter++);
    $conn->submit_sm_resp(seq => $pdu->{seq}, status => 0, message_id => $id);
    printf "submit %s %s %d %s %s %s %s\n", $dest, $id, $pdu->{data_coding}, unpack('H*', $body), unpack('H*', $udh),
      ($pdu->{validity_period} || '-'), $pdu->{source_addr} // '-'
      unless $quiet;
    if ($receipts && (($pdu->{registered_delivery} // 0) & 0x03)) {
      my $stat = $dest =~ /9$/ ? 'UNDELIV' : 'DELIVRD';
      my $err = $stat eq 'DELIVRD' ? '000' : '001';
      my @t = gmtime();
      my $date = sprintf('%02d%02d%02d%02d%02d', $t[5] % 100, $t[4] + 1, $t[3], $t[2], $t[1]);
      my $text = "id:$id sub:001 dlvrd:001 submit date:$date done date:$date stat:$stat err:$err text:";
      (my $src = $pdu->{source_addr}) =~ s/^\+//;
      $conn->deliver_sm(async => 1, source_addr_ton => $pdu->{dest_addr_ton}, source_addr_npi => $pdu->{dest_addr_npi},
        source_addr => $dest, dest_addr_ton => $pdu->{source_addr_ton}, dest_addr_npi => $pdu->{source_addr_npi},
        destination_addr => $src, esm_class => 0x04, data_coding => 0, short_message => $text);
    }
  } elsif ($cmd == 0x80000005) {
    print "deliver_resp $pdu->{status}\n" unless $quiet;
  } elsif ($cmd == 0x00000006) {
    $conn->unbind_resp(seq => $pdu->{seq});
    print "unbound\n";
  } elsif (!($cmd & 0x80000000)) {
    $conn->generic_nack(seq => $pdu->{seq}, status => 3);
  }
}

for (;;) {
  for my $fh ($sel->can_read()) {
    if ($fh == $listen) {
      my $c = $listen->accept or next;
      if ($conn) { $sel->remove($conn); close $conn; }
      $conn = $c;
      $sel->add($conn);
      print "connected\n";
    } elsif ($fh == \*STDIN) {
      my $n = sysread(STDIN, $stdin_buf, 65536, length $stdin_buf);
      exit 0 unless $n;
      while ($stdin_buf =~ s/^([^\n]*)\n//) { command($1) }
    } else {
      my $pdu = $conn->read_pdu();
      unless ($pdu) {
        $sel->remove($conn);
        close $conn;
        undef $conn;
        print "disconnected\n";
        next;
      }
      pdu($pdu);
    }
  }
}
